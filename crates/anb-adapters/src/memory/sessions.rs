//! [`SessionRepository`] on [`MemoryStore`]: under the store's one mutex, so a rotation's read
//! and write are one step.

use std::collections::HashMap;

use anb_domain::ports::SessionRepository;
use anb_domain::session::{Rotation, SecretDigest, SessionEnd};
use anb_domain::{SessionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;

/// Sessions and the refresh tokens of each.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    /// Session → (user, ended).
    sessions: HashMap<SessionId, (UserId, bool)>,
    /// Token digest → (session, expires at, used).
    tokens: HashMap<SecretDigest, (SessionId, DateTime<Utc>, bool)>,
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn open(
        &self,
        session: SessionId,
        user: UserId,
        first: &SecretDigest,
        _now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut state = self.state.lock();
        anyhow::ensure!(state.user(user).is_some(), "user {user} does not exist");
        let sessions = &mut state.sessions;
        sessions.sessions.insert(session, (user, false));
        sessions
            .tokens
            .insert(first.clone(), (session, expires_at, false));
        Ok(())
    }

    async fn rotate(
        &self,
        presented: &SecretDigest,
        next: &SecretDigest,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<Rotation> {
        let mut state = self.state.lock();
        let sessions = &mut state.sessions;
        let Some(&(session, token_expires_at, used)) = sessions.tokens.get(presented) else {
            return Ok(Rotation::Refused);
        };
        let Some(&(user, ended)) = sessions.sessions.get(&session) else {
            return Ok(Rotation::Refused);
        };
        if ended {
            return Ok(Rotation::Refused);
        }
        if used {
            sessions.sessions.insert(session, (user, true));
            return Ok(Rotation::Reused { session, user });
        }
        if token_expires_at <= now {
            return Ok(Rotation::Refused);
        }
        sessions
            .tokens
            .insert(presented.clone(), (session, token_expires_at, true));
        sessions
            .tokens
            .insert(next.clone(), (session, expires_at, false));
        Ok(Rotation::Rotated { session, user })
    }

    async fn end(
        &self,
        presented: &SecretDigest,
        _why: SessionEnd,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<Option<SessionId>> {
        let mut state = self.state.lock();
        let sessions = &mut state.sessions;
        let Some(&(session, _, _)) = sessions.tokens.get(presented) else {
            return Ok(None);
        };
        match sessions.sessions.get_mut(&session) {
            Some((_, ended)) if !*ended => {
                *ended = true;
                Ok(Some(session))
            }
            _ => Ok(None),
        }
    }

    async fn end_all(
        &self,
        user: UserId,
        _why: SessionEnd,
        _now: DateTime<Utc>,
    ) -> anyhow::Result<u64> {
        let mut state = self.state.lock();
        let mut ended = 0;
        for (owner, done) in state.sessions.sessions.values_mut() {
            if *owner == user && !*done {
                *done = true;
                ended += 1;
            }
        }
        Ok(ended)
    }
}
