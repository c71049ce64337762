//! A JSON string field that takes strings only. poem-openapi's `String` also turns numbers and
//! booleans into text (`"first_name": 123` would become "123"), and its own type errors do not
//! name the field. A `Text` keeps what came instead, so the handler can refuse it by name:
//! 400 `validation_error`, `"first_name: must be a string, not a number"`.

use std::borrow::Cow;

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A JSON string, or the kind of JSON value that came in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(Result<String, &'static str>);

impl Text {
    /// The string, or `"<field>: must be a string, not <what came>"`.
    ///
    /// # Errors
    /// When the value was not a JSON string.
    pub fn into_string(self, field: &str) -> Result<String, String> {
        self.0
            .map_err(|found| format!("{field}: must be a string, not {found}"))
    }
}

impl Type for Text {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().ok()
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(Self(match value.unwrap_or_default() {
            Value::String(text) => Ok(text),
            Value::Null => Err("null"),
            Value::Bool(_) => Err("a boolean"),
            Value::Number(_) => Err("a number"),
            Value::Array(_) => Err("an array"),
            Value::Object(_) => Err("an object"),
        }))
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        self.0.clone().ok().map(Value::String)
    }
}
