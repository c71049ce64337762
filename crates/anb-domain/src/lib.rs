//! # anb-domain
//!
//! The core of ANB Showcase: entities, value types that validate on construction, the rules of
//! the competition, the ports (traits) adapters implement, and the use cases as one service,
//! [`Showcase`], that embedders call.
//!
//! It performs no I/O and depends on no database, queue, HTTP or media crate: adapters live in
//! `anb-adapters`, and `anb::app::compose` builds [`Ports`] from configuration.
//!
//! The rules that must never break, each enforced here and again atomically by every repository:
//! - one vote per user per video;
//! - no voting for your own video;
//! - only processed, public videos take votes;
//! - a video with votes, or published for voting, cannot be deleted;
//! - only the owner sees or changes a video through the owner routes.

mod model;
pub mod ports;
pub mod service;
pub mod values;

pub use model::{
    blob, event, ids, job, mail, media, ops, rendition, session, sharing, user, video, webhook,
};

pub use blob::{BlobKey, BlobMeta, BlobObject, ByteStream, DownloadUrl};
pub use ids::{
    EventId, JobId, LeaseToken, RenditionId, SessionId, ShareLinkId, UserId, VideoId, WebhookId,
};
pub use job::{JobDecision, JobFailure, JobPayload, LeasedJob, QueueDepth, RetryPolicy};
pub use media::{
    Container, MediaInfo, MediaInput, MediaLimits, Profile, ProgressSink, TranscodeOutputs,
    TranscodeProgress, TranscodeReport,
};
pub use ports::{CastVoteError, CityStanding, PublicVideoQuery, RankingEntry, RankingQuery};
pub use service::{
    ByteRange, ConversionAccepted, ConversionError, DeleteVideoError, DeliveryRound, JobOutcome,
    JobRestore, LoginError, MediaDownload, MediaError, MediaKind, OidcError, OidcOutcome,
    OidcProfile, OidcStart, Playback, PlaybackGrant, PlayerPage, Ports, ProfileError,
    PublicPageError, PublishError, QueryError, ReceivedFile, RefreshError, RenditionFile,
    RenditionList, ReprocessError, ReprocessTarget, ResetPasswordError, RestoreReport,
    SendVerificationError, ShareLinkGrant, SharedPlayback, SharingError, Showcase, ShowcaseConfig,
    SignedIn, SignupError, SignupForm, StreamDownload, StreamFile, UploadForm, UploadReceipt,
    UploadVideoError, VerifyEmailError, VideoAccessError, WebhookError, MAX_RANKED_CITIES,
};
pub use user::{PlayerSummary, User};
pub use values::{
    City, Country, Description, Email, Page, PageRequest, Password, PasswordHash, PersonName, Tags,
    ValidationError, VideoTitle,
};
pub use video::{
    ProcessedMedia, PublicSort, PublicVideo, StatusChange, Undeletable, Video, VideoStatus,
};
