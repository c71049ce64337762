//! Value types that validate on construction: past the edge, an invalid value cannot exist.

mod email;
mod names;
mod paging;
mod password;
mod rate;
mod video_fields;

pub use email::Email;
pub use names::{City, Country, PersonName};
pub use paging::{Page, PageRequest};
pub use password::{Password, PasswordHash};
pub use rate::Rate;
pub use video_fields::{Description, Tags, VideoTitle};

/// Why a raw input was refused, naming the field it came from.
///
/// `field` uses the contract's field names (`email`, `password1`, `title`, `page_size`, …) so
/// the HTTP layer can answer `validation_error` with the offending field in `detail`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The input field that was refused.
    pub field: &'static str,
    /// A human-readable reason.
    pub message: String,
}

impl ValidationError {
    /// A refusal of `field` for `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// The same refusal reported under another field name (e.g. a `PersonName` used as `first_name`).
    pub fn for_field(self, field: &'static str) -> Self {
        Self { field, ..self }
    }
}

/// Trims `raw`, collapses inner runs of whitespace to one space, and checks its length in
/// characters is within `min..=max`.
pub(crate) fn normalized_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = text.chars().count();
    if len < min {
        return Err(if min == 1 {
            ValidationError::new(field, "must not be empty")
        } else {
            ValidationError::new(field, format!("must be at least {min} characters"))
        });
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text)
}
