//! Typed identifiers. Every id is a UUID; version 7 (time-ordered) when the domain creates it,
//! so primary-key indexes stay append-friendly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (read back from storage, parsed from a path).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

uuid_id!(
    /// Identifies a registered player (user).
    UserId
);
uuid_id!(
    /// Identifies an uploaded video.
    VideoId
);
uuid_id!(
    /// Identifies a job in the queue; the upload answer calls it `task_id`.
    JobId
);
uuid_id!(
    /// Identifies one lease: of a job by a worker, or of a webhook delivery by a deliverer. A
    /// new token is minted every time one is leased, so a holder whose lease expired cannot
    /// ack, extend or settle what another now holds.
    LeaseToken
);
uuid_id!(
    /// Identifies a rendition (a conversion an owner asked for).
    RenditionId
);
uuid_id!(
    /// Identifies a sign-in session: the family of refresh tokens one login started (each
    /// refresh replaces the token, the session stays).
    SessionId
);
uuid_id!(
    /// Identifies an event of a video ([`VideoEvent`](crate::event::VideoEvent)); webhooks send
    /// it as `webhook-id`.
    EventId
);
uuid_id!(
    /// Identifies a webhook subscription.
    WebhookId
);
uuid_id!(
    /// Identifies a share link (a signed, revocable URL anyone can watch a video through).
    ShareLinkId
);
