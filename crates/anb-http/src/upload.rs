//! The upload body: multipart/form-data read as a stream, so the file goes to the blob store
//! as it arrives (never held whole in memory or spooled by the framework).

use anb_domain::{ReceivedFile, Showcase, UploadForm, UploadVideoError, UserId};
use futures::TryStreamExt as _;
use poem::web::Multipart;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::impl_apirequest_for_payload;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use tokio::io::AsyncReadExt as _;
use tokio_util::io::ReaderStream;

/// Longest text field accepted (description, tags); longer is a validation error.
const MAX_TEXT_FIELD: u64 = 16 * 1024;

/// `multipart/form-data` with `video_file` (required), `title` (required), `description`,
/// `tags` (comma separated), `is_public` (default `true`). Fields may come in any order.
pub struct VideoUploadForm(Multipart);

impl Payload for VideoUploadForm {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        content_type.starts_with("multipart/form-data")
    }

    fn schema_ref() -> MetaSchemaRef {
        let text = |description: &'static str, max_length: Option<usize>| {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                description: Some(description),
                max_length,
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
                ("title", text("Title, 1 to 255 characters.", Some(255))),
                ("description", text("Description.", None)),
                ("tags", text("Comma-separated tags.", None)),
                (
                    "is_public",
                    MetaSchemaRef::Inline(Box::new(MetaSchema {
                        description: Some("Show in the public gallery once processed (default true)."),
                        ..MetaSchema::new("boolean")
                    })),
                ),
            ],
            required: vec!["video_file", "title"],
            ..MetaSchema::new("object")
        }))
    }
}

impl ParsePayload for VideoUploadForm {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(Multipart::from_request(request, body).await?))
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

async fn text(field: poem::web::Field, name: &str) -> Result<String, FormProblem> {
    let mut bytes = Vec::new();
    field
        .into_async_read()
        .take(MAX_TEXT_FIELD + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| FormProblem::Invalid(format!("{name}: the field could not be read ({e})")))?;
    if bytes.len() as u64 > MAX_TEXT_FIELD {
        return Err(FormProblem::Invalid(format!(
            "{name}: the field is too long"
        )));
    }
    String::from_utf8(bytes).map_err(|_| FormProblem::Invalid(format!("{name}: not UTF-8 text")))
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
            while let Some(field) = fields
                .next_field()
                .await
                .map_err(|e| FormProblem::Invalid(format!("the form could not be read ({e})")))?
            {
                match field.name().unwrap_or_default() {
                    "video_file" if received.is_some() => {
                        return Err(FormProblem::Invalid(
                            "video_file: only one file per upload".into(),
                        ))
                    }
                    "video_file" => {
                        let stream =
                            ReaderStream::with_capacity(field.into_async_read(), 256 * 1024)
                                .map_err(std::io::Error::other);
                        received = Some(
                            showcase
                                .receive_upload_file(owner, Box::pin(stream))
                                .await
                                .map_err(FormProblem::Refused)?,
                        );
                    }
                    "title" => title = Some(text(field, "title").await?),
                    "description" => form.description = Some(text(field, "description").await?),
                    "tags" => form.tags = Some(text(field, "tags").await?),
                    "is_public" => {
                        let raw = text(field, "is_public").await?;
                        form.is_public = boolean(&raw).ok_or_else(|| {
                            FormProblem::Invalid("is_public: must be true or false".into())
                        })?;
                    }
                    // Unknown fields are read past and ignored.
                    _ => {
                        let mut sink = tokio::io::sink();
                        tokio::io::copy(&mut field.into_async_read(), &mut sink)
                            .await
                            .map_err(|e| {
                                FormProblem::Invalid(format!("the form could not be read ({e})"))
                            })?;
                    }
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
