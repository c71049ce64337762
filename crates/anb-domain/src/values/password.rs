use std::fmt;

use super::ValidationError;

/// A plain-text password that met the policy (8..=256 characters). It never prints.
///
/// ```
/// use anb_domain::Password;
/// assert!(Password::new("short").is_err());
/// let pw = Password::new("correct horse battery").unwrap();
/// assert_eq!(format!("{pw:?}"), "Password(***)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Fewest characters accepted.
    pub const MIN_LEN: usize = 8;
    /// Most characters accepted (bounds the hashing work one request can ask for).
    pub const MAX_LEN: usize = 256;

    /// Checks the policy.
    ///
    /// # Errors
    /// [`ValidationError`] on field `password1` when shorter than [`Self::MIN_LEN`] or longer than
    /// [`Self::MAX_LEN`] characters.
    pub fn new(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(ValidationError::new(
                "password1",
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(ValidationError::new(
                "password1",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a password offered at login without checking the policy (the policy may have changed
    /// since the account was made; only the hash decides).
    pub fn for_login(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    /// The secret itself, for the hasher.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A password hash in PHC string format (`$argon2id$v=19$...`), as produced by a
/// [`PasswordHasher`](crate::ports::PasswordHasher).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a stored PHC string.
    pub fn from_phc(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash of an account with no password (made through an OpenID provider): no password
    /// matches it, and it is not a PHC string a hasher would try to parse.
    pub fn unusable() -> Self {
        Self(UNUSABLE.to_owned())
    }

    /// Whether some password can match it (it is not [`PasswordHash::unusable`]).
    pub fn is_usable(&self) -> bool {
        self.0 != UNUSABLE
    }
}

/// The stored value of [`PasswordHash::unusable`].
const UNUSABLE: &str = "!no-password";

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_policy_is_exactly_eight_to_256_characters(raw in "\\PC{0,300}") {
            let len = raw.chars().count();
            prop_assert_eq!(Password::new(&raw).is_ok(), (8..=256).contains(&len));
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Password::new("ñññññññ").is_err());
        assert!(Password::new("ññññññññ").is_ok());
    }
}
