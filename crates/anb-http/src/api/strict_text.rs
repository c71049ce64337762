//! Text fields and parameters whose schema states exactly what the server accepts.
//!
//! - [`Text`]: a required JSON string field of a request body. poem-openapi's `String` also
//!   turns numbers and booleans into text (`"first_name": 123` would become "123"), and its own
//!   type errors do not name the field. A `Text` keeps what came instead (or that nothing came),
//!   so the handler refuses it by name: 400 `validation_error`, `"first_name: field required"`,
//!   `"first_name: must be a string, not a number"`.
//! - [`Filter`]: an optional text filter in a query string (`city`, `country`, `q`).
//!
//! Both take their schema from a [`TextRule`]: lengths, a pattern and a format that are the
//! same rules the domain's value types apply (`anb_domain::values`), so a value the document
//! calls valid is never refused as malformed, and one it calls invalid is never accepted.
//! The domain measures some lengths after collapsing whitespace; the raw maximum is therefore
//! enforced here, where the rule says so, before the domain sees the value.

use std::borrow::Cow;
use std::marker::PhantomData;

use anb_domain::{City, Email, Password, PersonName};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

/// A single line of text that is not blank and has no control characters other than
/// whitespace (which the domain collapses): at least one character that is neither Unicode
/// `White_Space` nor a control, and no control outside `\t\n\v\f\r` and U+0085. Written for
/// ECMA-262, Python and Rust regular expressions alike (no `\s`: its meaning differs).
pub const VISIBLE_LINE: &str = concat!(
    r"^[^\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F]*",
    r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
    r"[^\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F]*$"
);

/// Text without control characters other than whitespace (blank text allowed).
pub const NO_CONTROLS: &str = r"^[^\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F]*$";

/// The constraints of one kind of text: its schema, and the longest raw value the edge lets
/// through to the domain.
pub trait TextRule: Send + Sync + 'static {
    /// The schema (a `string` with lengths, pattern, format).
    fn schema() -> MetaSchema;

    /// The most characters a raw value may have, checked here (`None`: the domain checks the
    /// length itself, with its own error code).
    const EDGE_MAX_CHARS: Option<usize>;
}

/// A string schema with these bounds.
fn string_schema(
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<&str>,
    format: Option<&'static str>,
) -> MetaSchema {
    MetaSchema {
        min_length,
        max_length,
        pattern: pattern.map(str::to_owned),
        format,
        ..MetaSchema::new("string")
    }
}

/// A person's name, a city or a country: 1 to 100 characters, not blank, no control
/// characters ([`PersonName`], [`City`], `Country`).
pub struct NameRule;

impl TextRule for NameRule {
    fn schema() -> MetaSchema {
        debug_assert_eq!(PersonName::MAX_LEN, City::MAX_LEN);
        string_schema(Some(1), Some(PersonName::MAX_LEN), Some(VISIBLE_LINE), None)
    }

    const EDGE_MAX_CHARS: Option<usize> = Some(PersonName::MAX_LEN);
}

/// An email address ([`Email`]): at most 254 characters, `name@domain.tld`.
pub struct EmailRule;

impl TextRule for EmailRule {
    fn schema() -> MetaSchema {
        string_schema(None, Some(Email::MAX_LEN), None, Some("email"))
    }

    const EDGE_MAX_CHARS: Option<usize> = Some(Email::MAX_LEN);
}

/// A new password ([`Password`]): 8 to 256 characters. Outside that the sign-up answers its
/// own code, `weak_password`.
pub struct PasswordRule;

impl TextRule for PasswordRule {
    fn schema() -> MetaSchema {
        string_schema(Some(Password::MIN_LEN), Some(Password::MAX_LEN), None, None)
    }

    const EDGE_MAX_CHARS: Option<usize> = None;
}

/// Any string (login: a wrong email or password is `invalid_credentials`, whatever its shape).
pub struct AnyText;

impl TextRule for AnyText {
    fn schema() -> MetaSchema {
        MetaSchema::new("string")
    }

    const EDGE_MAX_CHARS: Option<usize> = None;
}

/// A search filter (`city`, `country`, `q`): at most 100 characters, no control characters;
/// blank means no filter.
pub struct FilterRule;

impl TextRule for FilterRule {
    fn schema() -> MetaSchema {
        string_schema(None, Some(City::MAX_LEN), Some(NO_CONTROLS), None)
    }

    const EDGE_MAX_CHARS: Option<usize> = Some(City::MAX_LEN);
}

/// What came in a JSON field.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Received {
    /// A string.
    Text(String),
    /// The field was absent.
    Missing,
    /// Another JSON type (`null`, `a number`, …).
    Other(&'static str),
}

/// A required JSON string field under `R`'s rule, or what came in its place.
pub struct Text<R> {
    received: Received,
    rule: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Text<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Text").field(&self.received).finish()
    }
}

impl<R: TextRule> Text<R> {
    /// The string, or why the field is refused: `"<field>: field required"`,
    /// `"<field>: must be a string, not <what came>"`, `"<field>: must be at most N characters"`.
    ///
    /// # Errors
    /// When the field was absent, not a JSON string, or longer than the rule's edge maximum.
    pub fn into_string(self, field: &str) -> Result<String, String> {
        match self.received {
            Received::Text(text) => match R::EDGE_MAX_CHARS {
                Some(max) if text.chars().nth(max).is_some() => {
                    Err(format!("{field}: must be at most {max} characters"))
                }
                _ => Ok(text),
            },
            Received::Missing => Err(format!("{field}: field required")),
            Received::Other(found) => Err(format!("{field}: must be a string, not {found}")),
        }
    }
}

impl<R: TextRule> Type for Text<R> {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(R::schema()))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        match &self.received {
            Received::Text(text) => Some(text),
            _ => None,
        }
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<R: TextRule> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let received = match value {
            None => Received::Missing,
            Some(Value::String(text)) => Received::Text(text),
            Some(Value::Null) => Received::Other("null"),
            Some(Value::Bool(_)) => Received::Other("a boolean"),
            Some(Value::Number(_)) => Received::Other("a number"),
            Some(Value::Array(_)) => Received::Other("an array"),
            Some(Value::Object(_)) => Received::Other("an object"),
        };
        Ok(Self {
            received,
            rule: PhantomData,
        })
    }
}

impl<R: TextRule> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        self.as_raw_value().cloned().map(Value::String)
    }
}

/// A text filter in a query string under `R`'s rule (checked here: its raw length; by the
/// domain: the rest). A value over the maximum is a 400 naming the parameter.
pub struct Filter<R> {
    text: String,
    rule: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for Filter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Filter").field(&self.text).finish()
    }
}

impl<R> Filter<R> {
    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<R: TextRule> Type for Filter<R> {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(R::schema()))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.text)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<R: TextRule> ParseFromParameter for Filter<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if let Some(max) = R::EDGE_MAX_CHARS {
            if value.chars().nth(max).is_some() {
                return Err(ParseError::custom(format!(
                    "must be at most {max} characters"
                )));
            }
        }
        Ok(Self {
            text: value.to_owned(),
            rule: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible(text: &str) -> bool {
        use poem_openapi::validation::{Pattern, Validator as _};
        Pattern::new(VISIBLE_LINE).check(&text.to_owned())
    }

    #[test]
    fn the_visible_line_pattern_agrees_with_the_domain_on_names() {
        for sample in [
            "Ana",
            " Ana ",
            "a\tb",
            "Bogotá D.C.",
            "\u{200B}",
            "x\u{85}y",
            "é",
            "a\nb",
            " ",
            "",
            "\t\n",
            "\u{a0}",
            "\u{3000}",
            "a\u{0}",
            "\u{1c}",
            "\u{7f}",
            "a\u{9f}b",
            "\u{2028}",
        ] {
            assert_eq!(
                visible(sample),
                PersonName::parse("first_name", sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named() {
        let missing = Text::<NameRule>::parse_from_json(None).unwrap();
        assert_eq!(
            missing.into_string("city").unwrap_err(),
            "city: field required"
        );
        let number = Text::<NameRule>::parse_from_json(Some(Value::from(3))).unwrap();
        assert_eq!(
            number.into_string("city").unwrap_err(),
            "city: must be a string, not a number"
        );
        let long = Text::<NameRule>::parse_from_json(Some(Value::from("x".repeat(101)))).unwrap();
        assert_eq!(
            long.into_string("city").unwrap_err(),
            "city: must be at most 100 characters"
        );
    }
}
