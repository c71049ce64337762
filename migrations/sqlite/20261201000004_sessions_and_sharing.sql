-- Sign-in sessions: one per login; each refresh replaces the session's refresh token, whose
-- digest (SHA-256 of 256 random bits) is all that is stored. A replaced token is kept (used_at
-- set) so that presenting it again is recognised as reuse and ends the session.
CREATE TABLE sessions (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER,
    end_reason TEXT CHECK (end_reason IN ('logout', 'logout_all', 'reuse', 'password_changed')),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
) STRICT;
CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE refresh_tokens (
    digest     TEXT PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Private shares: who may watch a video besides its owner.
CREATE TABLE video_shares (
    video_id     BLOB NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    recipient_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shared_at    INTEGER NOT NULL,
    PRIMARY KEY (video_id, recipient_id)
) STRICT;
CREATE INDEX video_shares_by_recipient ON video_shares (recipient_id, shared_at DESC, video_id);

-- Share links: signed tokens carry the id; the row says whether the link is revoked.
CREATE TABLE share_links (
    id         BLOB PRIMARY KEY,
    video_id   BLOB NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX share_links_by_video ON share_links (video_id, created_at DESC);

-- The player directory searches names lower-cased (SQLite's lower() folds ASCII only: rows
-- from before this migration with other capitals are found by their lower-case spelling).
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE users SET name_key = lower(first_name || ' ' || last_name);
CREATE INDEX users_by_name ON users (name_key, id);
