//! The upload body: multipart/form-data read as a stream ([multer], with its field allow list
//! and size limits), so the file goes to the blob store as it arrives (never held whole in
//! memory or spooled by the framework). The whole body's size, pace and framing are bounded
//! before it gets here ([`crate::bounded_body`]).

use anb_domain::{
    Description, ReceivedFile, Showcase, UploadForm, UploadVideoError, UserId, VideoTitle,
};
use futures::TryStreamExt as _;
use multer::{Constraints, SizeLimit};
use poem::http::{header, StatusCode};
use poem::{Request, RequestBody};
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};

use crate::api::strict_text::{NO_CONTROLS, VISIBLE_LINE};
use crate::error::{ApiError, ErrorCode};

/// Longest non-file field accepted (title, description, tags, is_public), in bytes; the use
/// case then checks each field's own length.
pub const MAX_TEXT_FIELD: u64 = 64 * 1024;

/// A description's text: no control characters but line breaks and tabs.
const DESCRIPTION_TEXT: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// The fields of the form; any other is refused as soon as its headers arrive.
const FIELDS: [&str; 5] = ["video_file", "title", "description", "tags", "is_public"];

/// `multipart/form-data` with `video_file` (required), `title` (required), `description`,
/// `tags` (comma separated), `is_public` (default `true`). Fields may come in any order.
pub struct VideoUploadForm(multer::Multipart<'static>);

impl Payload for VideoUploadForm {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .parse::<mime::Mime>()
            .is_ok_and(|m| m.essence_str() == "multipart/form-data")
    }

    fn schema_ref() -> MetaSchemaRef {
        let text = |description: &'static str,
                    min_length: Option<usize>,
                    max_length: Option<usize>,
                    pattern: &str| {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                description: Some(description),
                min_length,
                max_length,
                pattern: Some(pattern.to_owned()),
                ..MetaSchema::new("string")
            }))
        };
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            properties: vec![
                (
                    "video_file",
                    MetaSchemaRef::Inline(Box::new(MetaSchema {
                        description: Some("The clip: an MP4 or MOV with a video stream (checked by content), at most the configured size (100 MB by default)."),
                        format: Some("binary"),
                        ..MetaSchema::new("string")
                    })),
                ),
                (
                    "title",
                    text(
                        "Title, 1 to 255 characters.",
                        Some(1),
                        Some(VideoTitle::MAX_LEN),
                        VISIBLE_LINE,
                    ),
                ),
                (
                    "description",
                    text(
                        "Description, at most 5,000 characters; line breaks and tabs are the only control characters kept.",
                        None,
                        Some(Description::MAX_LEN),
                        DESCRIPTION_TEXT,
                    ),
                ),
                (
                    "tags",
                    text(
                        "Comma-separated tags: at most 20, each at most 50 characters.",
                        None,
                        None,
                        NO_CONTROLS,
                    ),
                ),
                (
                    "is_public",
                    MetaSchemaRef::Inline(Box::new(MetaSchema {
                        description: Some("Show in the public gallery once processed (default true)."),
                        ..MetaSchema::new("boolean")
                    })),
                ),
            ],
            required: vec!["video_file", "title"],
            // poem-openapi cannot write `additionalProperties: false`; a schema no value meets
            // says the same: no other field is accepted (the form refuses it by name).
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
                description: Some("No other field is accepted."),
                min_length: Some(1),
                max_length: Some(0),
                ..MetaSchema::new("string")
            })))),
            ..MetaSchema::new("object")
        }))
    }
}

impl ParsePayload for VideoUploadForm {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let invalid = |detail: String| {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::ValidationError, detail)
        };
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = multer::parse_boundary(content_type)
            .map_err(|e| invalid(format!("the form's content type is not usable ({e})")))?;
        let constraints = Constraints::new()
            .allowed_fields(FIELDS.to_vec())
            .size_limit(
                SizeLimit::new()
                    .per_field(MAX_TEXT_FIELD)
                    // The use case cuts the file off at the upload limit, with its own code.
                    .for_field("video_file", u64::MAX),
            );
        let stream = body.take()?.into_bytes_stream();
        Ok(Self(multer::Multipart::with_constraints(
            stream,
            boundary,
            constraints,
        )))
    }
}

impl_apirequest_for_payload!(VideoUploadForm);

/// Why reading the form failed before the use case could judge it.
pub enum FormProblem {
    /// A field is missing, repeated or malformed (400 `validation_error`).
    Invalid(String),
    /// The use case refused the upload.
    Refused(UploadVideoError),
}

/// What a multer error means for the client.
fn form_problem(error: multer::Error) -> FormProblem {
    FormProblem::Invalid(match error {
        multer::Error::UnknownField { field_name } => match field_name {
            Some(name) => format!("{name}: unknown field (expected {})", FIELDS.join(", ")),
            None => "a part of the form has no field name".to_owned(),
        },
        multer::Error::FieldSizeExceeded { field_name, .. } => format!(
            "{}: the field is longer than {} KiB",
            field_name.unwrap_or_default(),
            MAX_TEXT_FIELD / 1024
        ),
        other => format!("the form could not be read ({other})"),
    })
}

/// A text field, at most `max_chars` characters as sent (the domain measures after collapsing
/// whitespace; the document promises the raw length).
async fn text(
    field: multer::Field<'static>,
    name: &str,
    max_chars: Option<usize>,
) -> Result<String, FormProblem> {
    let bytes = field.bytes().await.map_err(form_problem)?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| FormProblem::Invalid(format!("{name}: not UTF-8 text")))?;
    match max_chars {
        Some(max) if text.chars().count() > max => Err(FormProblem::Invalid(format!(
            "{name}: must be at most {max} characters"
        ))),
        _ => Ok(text),
    }
}

fn boolean(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl VideoUploadForm {
    /// Reads the fields in order, streaming the file to the use case when it comes, and
    /// records the upload once the form is complete. A received file is discarded when the
    /// rest of the form fails.
    pub async fn submit(
        self,
        showcase: &Showcase,
        owner: UserId,
    ) -> Result<anb_domain::UploadReceipt, FormProblem> {
        let mut fields = self.0;
        let mut form = UploadForm::default();
        let mut title = None;
        let mut received: Option<ReceivedFile> = None;
        let outcome = async {
            while let Some(field) = fields.next_field().await.map_err(form_problem)? {
                match field.name().unwrap_or_default() {
                    "video_file" if received.is_some() => {
                        return Err(FormProblem::Invalid(
                            "video_file: only one file per upload".into(),
                        ))
                    }
                    "video_file" => {
                        let stream = field.map_err(std::io::Error::other);
                        received = Some(
                            showcase
                                .receive_upload_file(owner, Box::pin(stream))
                                .await
                                .map_err(FormProblem::Refused)?,
                        );
                    }
                    "title" => {
                        title = Some(text(field, "title", Some(VideoTitle::MAX_LEN)).await?);
                    }
                    "description" => {
                        let raw = text(field, "description", Some(Description::MAX_LEN)).await?;
                        form.description = Some(raw);
                    }
                    "tags" => form.tags = Some(text(field, "tags", None).await?),
                    "is_public" => {
                        let raw = text(field, "is_public", None).await?;
                        form.is_public = boolean(&raw).ok_or_else(|| {
                            FormProblem::Invalid("is_public: must be true or false".into())
                        })?;
                    }
                    // The constraints let no other field through.
                    other => return Err(FormProblem::Invalid(format!("{other}: unknown field"))),
                }
            }
            Ok(())
        }
        .await;
        if let Err(problem) = outcome {
            if let Some(file) = received {
                showcase.discard_upload_file(file).await;
            }
            return Err(problem);
        }
        let Some(file) = received else {
            return Err(FormProblem::Invalid("video_file: field required".into()));
        };
        let Some(title) = title else {
            showcase.discard_upload_file(file).await;
            return Err(FormProblem::Invalid("title: field required".into()));
        };
        form.title = title;
        showcase
            .complete_upload(file, form)
            .await
            .map_err(FormProblem::Refused)
    }
}
