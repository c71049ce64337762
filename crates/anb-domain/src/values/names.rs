use std::fmt;

use serde::{Deserialize, Serialize};

use super::{normalized_text, ValidationError};

/// A first or last name: 1..=100 characters, whitespace collapsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Longest name accepted, in characters.
    pub const MAX_LEN: usize = 100;

    /// Validates a raw name reported under `field` (`first_name` or `last_name`).
    ///
    /// # Errors
    /// [`ValidationError`] when the name is blank, longer than [`Self::MAX_LEN`] or holds control characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        normalized_text(field, raw, 1, Self::MAX_LEN).map(Self)
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse("name", &raw)
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> Self {
        name.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! place {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        ///
        /// Two places are the same place when their [`key`](Self::key)s are equal: the name
        /// trimmed, inner whitespace collapsed, and lower-cased. Filters compare keys, so
        /// `?city=bogotá` finds players from `Bogotá`.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name {
            display: String,
            key: String,
        }

        impl $name {
            /// Longest name accepted, in characters.
            pub const MAX_LEN: usize = 100;

            /// Validates a raw place name.
            ///
            /// # Errors
            #[doc = concat!("[`ValidationError`] on field `", $field, "` when blank, longer than [`Self::MAX_LEN`] or holding control characters.")]
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                let display = normalized_text($field, raw, 1, Self::MAX_LEN)?;
                let key = display.to_lowercase();
                Ok(Self { display, key })
            }

            /// The name as the player typed it (whitespace normalised).
            pub fn as_str(&self) -> &str {
                &self.display
            }

            /// The comparison key: lower-cased, whitespace normalised.
            pub fn key(&self) -> &str {
                &self.key
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(place: $name) -> Self {
                place.display
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.display)
            }
        }
    };
}

place!(
    /// The city a player represents; rankings filter by it.
    City,
    "city"
);
place!(
    /// The country a player represents; rankings can filter by it.
    Country,
    "country"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_city_keeps_its_spelling_and_compares_case_insensitively() {
        let a = City::parse("  Bogotá  D.C. ").unwrap();
        let b = City::parse("BOGOTÁ d.c.").unwrap();
        assert_eq!(a.as_str(), "Bogotá D.C.");
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn blank_names_are_refused_under_their_field() {
        assert_eq!(
            PersonName::parse("first_name", "  ").unwrap_err().field,
            "first_name"
        );
        assert_eq!(City::parse("").unwrap_err().field, "city");
        assert_eq!(Country::parse("\t").unwrap_err().field, "country");
    }

    proptest! {
        #[test]
        fn a_valid_name_is_trimmed_and_within_bounds(raw in "\\PC{0,150}") {
            match PersonName::parse("first_name", &raw) {
                Ok(name) => {
                    let len = name.as_str().chars().count();
                    prop_assert!((1..=PersonName::MAX_LEN).contains(&len));
                    prop_assert_eq!(name.as_str(), name.as_str().trim());
                    prop_assert!(!name.as_str().contains("  "));
                }
                Err(e) => prop_assert_eq!(e.field, "first_name"),
            }
        }

        #[test]
        fn a_city_key_is_idempotent(raw in "\\PC{1,100}") {
            if let Ok(city) = City::parse(&raw) {
                let again = City::parse(city.as_str()).unwrap();
                prop_assert_eq!(city.key(), again.key());
            }
        }
    }
}
