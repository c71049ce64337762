-- External identities (an OpenID provider's subject) linked to accounts: one account each.
CREATE TABLE user_identities (
    issuer    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
) STRICT;
CREATE INDEX user_identities_by_user ON user_identities (user_id);
