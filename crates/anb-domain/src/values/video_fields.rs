use std::fmt;

use serde::{Deserialize, Serialize};

use super::{normalized_text, ValidationError};

/// A video's title: 1..=255 characters, whitespace collapsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VideoTitle(String);

impl VideoTitle {
    /// Longest title accepted, in characters.
    pub const MAX_LEN: usize = 255;

    /// Validates a raw title.
    ///
    /// # Errors
    /// [`ValidationError`] on field `title` when blank, longer than 255 characters or holding
    /// control characters.
    pub fn new(raw: &str) -> Result<Self, ValidationError> {
        normalized_text("title", raw, 1, Self::MAX_LEN).map(Self)
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VideoTitle {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::new(&raw)
    }
}

impl From<VideoTitle> for String {
    fn from(title: VideoTitle) -> Self {
        title.0
    }
}

impl fmt::Display for VideoTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-text description: up to 5,000 characters; line breaks kept, ends trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    /// Longest description accepted, in characters.
    pub const MAX_LEN: usize = 5_000;

    /// Validates a raw description; blank input means "no description" (`Ok(None)`).
    ///
    /// # Errors
    /// [`ValidationError`] on field `description` when longer than 5,000 characters or holding
    /// control characters other than line breaks and tabs.
    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "description",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ValidationError::new(
                "description",
                "must not contain control characters",
            ));
        }
        Ok(Some(Self(text.to_owned())))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Description {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)?.ok_or_else(|| ValidationError::new("description", "must not be empty"))
    }
}

impl From<Description> for String {
    fn from(d: Description) -> Self {
        d.0
    }
}

/// A video's tags: up to 20, each 1..=50 characters, duplicates (ignoring case) dropped, order kept.
///
/// ```
/// use anb_domain::Tags;
/// let tags = Tags::parse("crossover, Dunk ,, dunk").unwrap();
/// assert_eq!(tags.as_slice(), ["crossover", "Dunk"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Tags(Vec<String>);

impl Tags {
    /// Most tags on one video.
    pub const MAX_COUNT: usize = 20;
    /// Longest tag, in characters.
    pub const MAX_TAG_LEN: usize = 50;

    /// Parses the upload form's comma-separated list. Empty items are ignored.
    ///
    /// # Errors
    /// [`ValidationError`] on field `tags` when there are more than 20 tags or one is longer than
    /// 50 characters or contains control characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::from_items(raw.split(','))
    }

    /// Builds tags from separate items, with the same rules as [`Tags::parse`].
    ///
    /// # Errors
    /// As [`Tags::parse`].
    pub fn from_items<'a>(
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ValidationError> {
        let mut tags: Vec<String> = Vec::new();
        for item in items {
            if item.trim().is_empty() {
                continue;
            }
            let tag = normalized_text("tags", item, 1, Self::MAX_TAG_LEN)?;
            if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
                tags.push(tag);
            }
        }
        if tags.len() > Self::MAX_COUNT {
            return Err(ValidationError::new(
                "tags",
                format!("at most {} tags", Self::MAX_COUNT),
            ));
        }
        Ok(Self(tags))
    }

    /// The tags in the order given.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// True when there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<String>> for Tags {
    type Error = ValidationError;
    fn try_from(items: Vec<String>) -> Result<Self, Self::Error> {
        Self::from_items(items.iter().map(String::as_str))
    }
}

impl From<Tags> for Vec<String> {
    fn from(tags: Tags) -> Self {
        tags.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_title_of_255_characters_is_accepted_and_256_is_not() {
        assert!(VideoTitle::new(&"é".repeat(255)).is_ok());
        assert_eq!(
            VideoTitle::new(&"é".repeat(256)).unwrap_err().field,
            "title"
        );
    }

    #[test]
    fn a_blank_description_is_no_description() {
        assert_eq!(Description::parse(" \n ").unwrap(), None);
    }

    proptest! {
        #[test]
        fn title_validation_matches_its_length_rule(raw in "\\PC{0,300}") {
            let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
            let len = collapsed.chars().count();
            prop_assert_eq!(VideoTitle::new(&raw).is_ok(), (1..=255).contains(&len));
        }

        #[test]
        fn tags_round_trip_through_their_comma_separated_form(items in proptest::collection::vec("[a-zA-Z0-9 ]{1,50}", 0..20)) {
            let tags = Tags::from_items(items.iter().map(String::as_str)).unwrap();
            let again = Tags::parse(&tags.as_slice().join(",")).unwrap();
            prop_assert_eq!(again, tags.clone());
            prop_assert!(tags.as_slice().len() <= items.len());
        }
    }
}
