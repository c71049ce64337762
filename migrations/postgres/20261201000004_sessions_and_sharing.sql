-- Sign-in sessions: one per login; each refresh replaces the session's refresh token, whose
-- digest (SHA-256 of 256 random bits) is all that is stored. A replaced token is kept (used_at
-- set) so that presenting it again is recognised as reuse and ends the session.
CREATE TABLE sessions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ,
    end_reason TEXT CHECK (end_reason IN ('logout', 'logout_all', 'reuse', 'password_changed')),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE refresh_tokens (
    digest     TEXT PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Private shares: who may watch a video besides its owner.
CREATE TABLE video_shares (
    video_id     UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    recipient_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shared_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (video_id, recipient_id)
);
CREATE INDEX video_shares_by_recipient ON video_shares (recipient_id, shared_at DESC, video_id);

-- Share links: signed tokens carry the id; the row says whether the link is revoked.
CREATE TABLE share_links (
    id         UUID PRIMARY KEY,
    video_id   UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX share_links_by_video ON share_links (video_id, created_at DESC);

-- The player directory searches names lower-cased.
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE users SET name_key = lower(first_name || ' ' || last_name);
CREATE INDEX users_by_name ON users (name_key, id);
