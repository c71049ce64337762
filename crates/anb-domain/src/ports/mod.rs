//! Ports: the traits adapters implement. Used as `Arc<dyn Port>` so backends are chosen at run
//! time. Each method's `# Errors` section is the contract the conformance suite checks: the
//! variant an adapter MUST return in each case.

mod blobs;
mod clock;
mod identity;
mod mail;
mod ops;
mod pages;
mod queue;
mod readiness;
mod renditions;
mod security;
mod sessions;
mod shares;
mod trace;
mod transcoder;
mod unavailable;
mod users;
mod videos;
mod votes;
mod webhooks;

pub use blobs::{BlobError, BlobStore};
pub use clock::{Clock, SystemClock};
pub use identity::{ExternalIdentity, IdentityError, IdentityProvider, LoginStart, PendingLogin};
pub use mail::{MailError, Mailer};
pub use ops::OpsRecords;
pub use pages::{NoPageStore, PageStore, StoredPage};
pub use queue::{JobQueue, QueueError};
pub use readiness::Readiness;
pub use renditions::{
    RenditionRepository, RenditionTransitionError, RequestRenditionError, Requested,
};
pub use security::{
    AccessToken, PasswordHasher, PlaybackClaims, PlaybackToken, TokenError, TokenIssuer,
};
pub use sessions::SessionRepository;
pub use shares::{ShareError, ShareRepository};
pub use trace::{NoTraceContext, TraceContext};
pub use transcoder::{TranscodeError, Transcoder};
pub use unavailable::Unavailable;
pub use users::{CreateUserError, UserRepository};
pub use videos::{
    DeleteVideoRecordError, PublicVideoQuery, TransitionError, VideoRepository, VisibilityError,
};
pub use votes::{CastVoteError, CityStanding, RankingEntry, RankingQuery, VoteRepository};
pub use webhooks::{EventLog, SubscribeError, TargetRefused, WebhookSender};
