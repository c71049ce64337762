-- Verified emails: when the player proved the address is theirs (NULL: not yet).
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

-- One-time email tokens (a verification link, a password reset): only the digest (SHA-256 of
-- 256 random bits) is stored; a token is consumed once, by setting used_at.
CREATE TABLE email_tokens (
    digest     TEXT PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX email_tokens_by_user ON email_tokens (user_id);
