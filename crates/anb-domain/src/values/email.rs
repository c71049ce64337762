use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// A syntactically valid email address, normalised to lower case.
///
/// Emails are unique case-insensitively; storing the lower-cased form makes that a plain unique
/// constraint in every backend.
///
/// ```
/// use anb_domain::Email;
/// let email = Email::parse("  Ana.Perez@Example.COM ").unwrap();
/// assert_eq!(email.as_str(), "ana.perez@example.com");
/// assert!(Email::parse("not-an-email").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses and normalises a raw address.
    ///
    /// # Errors
    /// [`ValidationError`] on field `email` when the address is empty, too long, or not of the
    /// form `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValidationError::new("email", "must not be empty"));
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "email",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|e| ValidationError::new("email", format!("is not a valid address ({e})")))?;
        // Quoted local parts and IP-literal domains are valid RFC 5322 but nobody signs up with
        // them; a dotted host name is what a deliverable address has.
        let domain = parsed.domain();
        if !domain.contains('.') || domain.starts_with('[') || parsed.local_part().starts_with('"')
        {
            return Err(ValidationError::new(
                "email",
                "is not a valid address (expected name@domain.tld)",
            ));
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Email::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_address_is_lower_cased_and_trimmed() {
        assert_eq!(
            Email::parse(" Jo@Mail.Example.org\n").unwrap().as_str(),
            "jo@mail.example.org"
        );
    }

    #[test]
    fn addresses_without_a_dotted_domain_are_refused() {
        for bad in [
            "",
            "   ",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a b@c.co",
            "a@[127.0.0.1]",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_simple_address_parses_to_its_lower_case(
            local in "[a-zA-Z0-9][a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9]",
            host in "[a-zA-Z][a-zA-Z0-9-]{0,10}[a-zA-Z0-9]",
            tld in "[a-zA-Z]{2,6}",
        ) {
            prop_assume!(!local.contains(".."));
            let raw = format!("{local}@{host}.{tld}");
            let email = Email::parse(&raw).unwrap();
            prop_assert_eq!(email.as_str(), raw.to_lowercase());
            // Normalisation is idempotent.
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
        }

        #[test]
        fn parsing_never_panics(raw in "\\PC{0,300}") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert!(email.as_str().len() <= Email::MAX_LEN);
                prop_assert!(email.as_str().contains('@'));
            }
        }
    }
}
