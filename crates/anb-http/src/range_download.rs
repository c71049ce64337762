//! Media downloads with HTTP Range: the request's `Range` header in, 200/206/416 out.

use std::time::Duration;

use anb_domain::{ByteRange, MediaDownload, MediaError, StreamDownload};
use futures::TryStreamExt as _;
use poem::Body;

/// The single range of a `Range` header, or `None` to send the whole file. Unparsable or
/// multi-range headers are ignored (the whole file is sent), as RFC 9110 allows.
pub fn requested_range(header: Option<&str>) -> Option<ByteRange> {
    use http_range_header::{EndPosition, StartPosition};
    let parsed = http_range_header::parse_range_header(header?).ok()?;
    let [range] = parsed.ranges.as_slice() else {
        return None;
    };
    Some(match (&range.start, &range.end) {
        (StartPosition::Index(start), EndPosition::Index(end)) => ByteRange::Bounded {
            start: *start,
            end: *end,
        },
        (StartPosition::Index(start), EndPosition::LastByte) => ByteRange::From { start: *start },
        (StartPosition::FromLast(length), _) => ByteRange::Suffix { length: *length },
    })
}

/// What a media operation answers, before it becomes that operation's response type.
pub enum MediaReply {
    /// The whole file.
    Whole {
        /// The bytes.
        body: Body,
        /// Its size.
        length: u64,
        /// `Cache-Control`, when caches may keep it.
        cache_control: Option<String>,
    },
    /// A byte range.
    Partial {
        /// The bytes.
        body: Body,
        /// `bytes start-end/size`.
        content_range: String,
        /// The range's length.
        length: u64,
        /// `Cache-Control`, when caches may keep it.
        cache_control: Option<String>,
    },
    /// The range is outside the file (`Content-Range: bytes */size`).
    Unsatisfiable {
        /// `bytes */size`.
        content_range: String,
    },
    /// A refusal from the use case.
    Refused(MediaError),
}

impl MediaReply {
    /// The reply for an opened download, or a refusal.
    pub fn from_result(opened: Result<MediaDownload, MediaError>, ranged: bool) -> Self {
        match opened {
            Ok(download) => {
                let object = download.object;
                let length = object.range.end - object.range.start;
                let body = Body::from_bytes_stream(object.body.map_err(std::io::Error::other));
                if ranged {
                    Self::Partial {
                        body,
                        content_range: format!(
                            "bytes {}-{}/{}",
                            object.range.start,
                            object.range.end.saturating_sub(1),
                            object.meta.size
                        ),
                        length,
                        cache_control: None,
                    }
                } else {
                    Self::Whole {
                        body,
                        length,
                        cache_control: None,
                    }
                }
            }
            Err(MediaError::InvalidRange { size }) => Self::Unsatisfiable {
                content_range: format!("bytes */{size}"),
            },
            Err(refusal) => Self::Refused(refusal),
        }
    }

    /// The reply for a streaming file, with the `Cache-Control` its freshness allows.
    pub fn from_stream(opened: Result<StreamDownload, MediaError>, ranged: bool) -> Self {
        match opened {
            Ok(stream) => {
                let header = cache_control(stream.fresh_for);
                match Self::from_result(Ok(stream.download), ranged) {
                    Self::Whole { body, length, .. } => Self::Whole {
                        body,
                        length,
                        cache_control: Some(header),
                    },
                    Self::Partial {
                        body,
                        content_range,
                        length,
                        ..
                    } => Self::Partial {
                        body,
                        content_range,
                        length,
                        cache_control: Some(header),
                    },
                    other => other,
                }
            }
            Err(refusal) => Self::from_result(Err(refusal), ranged),
        }
    }
}

/// `public, max-age=N` (with `immutable` for a day or more), or `no-store` for nothing.
fn cache_control(fresh_for: Duration) -> String {
    match fresh_for.as_secs() {
        0 => "no-store".to_owned(),
        secs if secs >= 86_400 => format!("public, max-age={secs}, immutable"),
        secs => format!("public, max-age={secs}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_becomes_cache_control() {
        assert_eq!(cache_control(Duration::ZERO), "no-store");
        assert_eq!(cache_control(Duration::from_secs(60)), "public, max-age=60");
        assert_eq!(
            cache_control(Duration::from_secs(365 * 86_400)),
            "public, max-age=31536000, immutable"
        );
    }

    #[test]
    fn a_single_range_is_understood_and_anything_else_means_the_whole_file() {
        assert_eq!(
            requested_range(Some("bytes=0-99")),
            Some(ByteRange::Bounded { start: 0, end: 99 })
        );
        assert_eq!(
            requested_range(Some("bytes=100-")),
            Some(ByteRange::From { start: 100 })
        );
        assert_eq!(
            requested_range(Some("bytes=-500")),
            Some(ByteRange::Suffix { length: 500 })
        );
        assert_eq!(requested_range(Some("bytes=0-1,5-6")), None);
        assert_eq!(requested_range(Some("items=0-1")), None);
        assert_eq!(requested_range(None), None);
    }
}

/// Declares a media operation's response type for a content type: `200`, `206`, `404`, `416`,
/// and the `extra` refusals (`400`, `403` for a player's own files), with its conversion from
/// [`MediaReply`] (`refused` turns the refusals other than not found into a response).
macro_rules! media_response {
    (
        $(#[$doc:meta])* $name:ident, $content_type:literal,
        extra: [$($extra:tt)*],
        refused: |$refusal:ident| $refused:expr
    ) => {
        $(#[$doc])*
        #[derive(poem_openapi::ApiResponse)]
        pub enum $name {
            /// The whole file.
            #[oai(status = 200, content_type = $content_type)]
            Whole(
                poem_openapi::payload::Binary<poem::Body>,
                /// The file's size in bytes.
                #[oai(header = "Content-Length")]
                u64,
                /// `bytes`: ranges are supported.
                #[oai(header = "Accept-Ranges")]
                String,
                /// How long caches may keep it (streaming files).
                #[oai(header = "Cache-Control")]
                Option<String>,
            ),
            /// The requested byte range.
            #[oai(status = 206, content_type = $content_type)]
            Partial(
                poem_openapi::payload::Binary<poem::Body>,
                /// `bytes start-end/size`.
                #[oai(header = "Content-Range")]
                String,
                /// The range's size in bytes.
                #[oai(header = "Content-Length")]
                u64,
                /// `bytes`: ranges are supported.
                #[oai(header = "Accept-Ranges")]
                String,
                /// How long caches may keep it (streaming files).
                #[oai(header = "Cache-Control")]
                Option<String>,
            ),
            $($extra)*
            /// `not_found`: no such video (or not a video id), or no such file.
            #[oai(status = 404)]
            NotFound($crate::error::ErrorJson),
            /// `range_not_satisfiable`; `Content-Range: bytes */size`.
            #[oai(status = 416)]
            RangeNotSatisfiable(
                $crate::error::ErrorJson,
                /// `bytes */size`.
                #[oai(header = "Content-Range")]
                String,
            ),
        }

        impl $name {
            /// The response for `reply`.
            ///
            /// # Errors
            /// Unexpected faults: a 503 when a backend is unavailable, else a 500.
            pub fn from_reply(reply: $crate::range_download::MediaReply) -> poem::Result<Self> {
                use $crate::error::body;
                use $crate::range_download::MediaReply;
                use anb_domain::MediaError;
                Ok(match reply {
                    MediaReply::Whole { body: bytes, length, cache_control } => Self::Whole(
                        poem_openapi::payload::Binary(bytes),
                        length,
                        "bytes".into(),
                        cache_control,
                    ),
                    MediaReply::Partial { body: bytes, content_range, length, cache_control } => {
                        Self::Partial(
                            poem_openapi::payload::Binary(bytes),
                            content_range,
                            length,
                            "bytes".into(),
                            cache_control,
                        )
                    }
                    MediaReply::Unsatisfiable { content_range } => Self::RangeNotSatisfiable(
                        body($crate::error::ErrorCode::RangeNotSatisfiable, "The requested range is outside the file."),
                        content_range,
                    ),
                    MediaReply::Refused(MediaError::NotFound) => {
                        Self::NotFound(body($crate::error::ErrorCode::NotFound, "Video not found."))
                    }
                    MediaReply::Refused(MediaError::InvalidRange { size }) => {
                        Self::RangeNotSatisfiable(
                            body($crate::error::ErrorCode::RangeNotSatisfiable, "The requested range is outside the file."),
                            format!("bytes */{size}"),
                        )
                    }
                    MediaReply::Refused(MediaError::Unexpected(e)) => {
                        return Err($crate::error::ApiError::unexpected(&e))
                    }
                    MediaReply::Refused($refusal) => $refused,
                })
            }
        }
    };
}

/// The refusals of a player's own files: not processed yet, another player's video.
macro_rules! own_media_response {
    ($(#[$doc:meta])* $name:ident, $content_type:literal) => {
        media_response!(
            $(#[$doc])* $name, $content_type,
            extra: [
                /// `not_processed`: the file does not exist yet.
                #[oai(status = 400)]
                NotProcessed($crate::error::ErrorJson),
                /// `forbidden`: another player's video.
                #[oai(status = 403)]
                Forbidden($crate::error::ErrorJson),
            ],
            refused: |refusal| match refusal {
                MediaError::NotProcessed => Self::NotProcessed(body(
                    $crate::error::ErrorCode::NotProcessed,
                    "El video aún no ha sido procesado.",
                )),
                MediaError::Forbidden => Self::Forbidden(body(
                    $crate::error::ErrorCode::Forbidden,
                    "This video belongs to another player.",
                )),
                _ => Self::NotFound(body($crate::error::ErrorCode::NotFound, "Video not found.")),
            }
        );
    };
}

/// Published files: anything not published is not found.
macro_rules! public_media_response {
    ($(#[$doc:meta])* $name:ident, $content_type:literal) => {
        media_response!(
            $(#[$doc])* $name, $content_type,
            extra: [],
            refused: |_refusal| Self::NotFound(body($crate::error::ErrorCode::NotFound, "Video not found."))
        );
    };
}

/// Files behind a playback link: refused with 403 when the link expired or was altered.
macro_rules! signed_media_response {
    ($(#[$doc:meta])* $name:ident, $content_type:literal) => {
        media_response!(
            $(#[$doc])* $name, $content_type,
            extra: [
                /// `signature_expired` or `signature_invalid`: ask for a new playback link;
                /// `access_revoked`: the owner stopped sharing the video with the link's holder.
                #[oai(status = 403)]
                Forbidden($crate::error::ErrorJson),
            ],
            refused: |refusal| match refusal {
                MediaError::SignatureExpired => Self::Forbidden(body(
                    $crate::error::ErrorCode::SignatureExpired,
                    "The playback link has expired.",
                )),
                MediaError::SignatureInvalid => Self::Forbidden(body(
                    $crate::error::ErrorCode::SignatureInvalid,
                    "The playback link is not valid.",
                )),
                MediaError::Revoked => Self::Forbidden(body(
                    $crate::error::ErrorCode::AccessRevoked,
                    "The owner no longer shares this video through this link.",
                )),
                _ => Self::NotFound(body($crate::error::ErrorCode::NotFound, "Video not found.")),
            }
        );
    };
}

own_media_response!(
    /// A player's own video file (MP4), whole or by range.
    VideoFileResponse,
    "video/mp4"
);
own_media_response!(
    /// A player's own thumbnail (JPEG), whole or by range.
    ThumbnailResponse,
    "image/jpeg"
);
public_media_response!(
    /// A published video (MP4), whole or by range.
    PublicVideoFileResponse,
    "video/mp4"
);
public_media_response!(
    /// A published video's thumbnail (JPEG), whole or by range.
    PublicThumbnailResponse,
    "image/jpeg"
);
public_media_response!(
    /// A published video's HLS playlist (master or rung), whole or by range.
    PublicPlaylistResponse,
    "application/vnd.apple.mpegurl"
);
public_media_response!(
    /// A published video's storyboard cues (WebVTT), whole or by range.
    PublicCuesResponse,
    "text/vtt"
);
signed_media_response!(
    /// An HLS playlist behind a playback link, whole or by range.
    SignedPlaylistResponse,
    "application/vnd.apple.mpegurl"
);
signed_media_response!(
    /// An MP4 (the video, or an HLS init or media segment) behind a playback link, whole or
    /// by range.
    SignedMp4Response,
    "video/mp4"
);
signed_media_response!(
    /// An MP3 rendition behind a playback link, whole or by range.
    SignedMp3Response,
    "audio/mpeg"
);
signed_media_response!(
    /// Storyboard cues (WebVTT) behind a playback link, whole or by range.
    SignedCuesResponse,
    "text/vtt"
);
signed_media_response!(
    /// A JPEG (thumbnail, storyboard sprite) behind a playback link, whole or by range.
    SignedJpegResponse,
    "image/jpeg"
);
