//! The entities and what the service says about them: players ([`user`]), videos and their
//! statuses ([`video`]), media and what the transcoder makes of it ([`media`]), stored objects
//! ([`blob`]), outgoing email ([`mail`]), background jobs and their retry policy ([`job`]), and the identifiers ([`ids`]).

pub mod blob;
pub mod event;
pub mod ids;
pub mod job;
pub mod mail;
pub mod media;
pub mod ops;
pub mod rendition;
pub mod session;
pub mod sharing;
pub mod user;
pub mod video;
pub mod webhook;
