//! Argon2id password hashing (RustCrypto `argon2`), run on Tokio's blocking pool.

use anb_domain::ports::PasswordHasher;
use anb_domain::{Password, PasswordHash};
use anyhow::Context as _;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;

/// Argon2id with OWASP's recommended parameters by default (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Debug, Default)]
pub struct Argon2Hasher {
    params: Params,
}

impl Argon2Hasher {
    /// Argon2id with explicit cost parameters (memory in KiB, passes, lanes).
    ///
    /// # Errors
    /// When the parameters are out of Argon2's bounds.
    pub fn with_params(memory_kib: u32, passes: u32, lanes: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, passes, lanes, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        Ok(Self { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let argon2 = self.argon2();
        let secret = password.expose().to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(secret.as_bytes(), &salt)
                .map(|hash| PasswordHash::from_phc(hash.to_string()))
                .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
        })
        .await
        .context("the hashing task panicked")?
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> anyhow::Result<bool> {
        let argon2 = self.argon2();
        let secret = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed = argon2::PasswordHash::new(&phc)
                .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
            // The parameters come from the stored hash, so old hashes verify after a cost change.
            match argon2.verify_password(secret.as_bytes(), &parsed) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::Password) => Ok(false),
                Err(e) => Err(anyhow::anyhow!("verifying a password: {e}")),
            }
        })
        .await
        .context("the verification task panicked")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Hasher {
        Argon2Hasher::with_params(1024, 1, 1).unwrap()
    }

    #[tokio::test]
    async fn a_hash_is_an_argon2id_phc_string_that_verifies_only_its_password() {
        let hasher = fast();
        let pw = Password::new("correct horse").unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$"));
        assert!(hasher.verify(&pw, &hash).await.unwrap());
        assert!(!hasher
            .verify(&Password::for_login("correct horsf"), &hash)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let hasher = fast();
        let pw = Password::new("correct horse").unwrap();
        assert_ne!(
            hasher.hash(&pw).await.unwrap(),
            hasher.hash(&pw).await.unwrap()
        );
    }

    #[tokio::test]
    async fn a_hash_made_with_other_costs_still_verifies() {
        let pw = Password::new("correct horse").unwrap();
        let hash = fast().hash(&pw).await.unwrap();
        let stronger = Argon2Hasher::with_params(2048, 2, 1).unwrap();
        assert!(stronger.verify(&pw, &hash).await.unwrap());
    }

    #[tokio::test]
    async fn a_malformed_hash_is_an_error_not_a_mismatch() {
        let pw = Password::new("correct horse").unwrap();
        assert!(fast()
            .verify(&pw, &PasswordHash::from_phc("not-a-hash"))
            .await
            .is_err());
    }
}
