//! A secret string that never prints.

use std::fmt;

use serde::Deserialize;

/// A secret (the JWT signing key, the SMTP URL). `Debug` and `Display` print `***`; read it with
/// [`Secret::expose`].
///
/// ```
/// use anb::app::settings::Secret;
/// let secret = Secret::new("hunter2-hunter2-hunter2-hunter2-x");
/// assert_eq!(format!("{secret} {secret:?}"), "*** Secret(***)");
/// assert_eq!(secret.expose(), "hunter2-hunter2-hunter2-hunter2-x");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
