//! The end-to-end suite, as one test binary: the real `anb` binaries over HTTP (the course
//! flow, hostile traffic and media, poison jobs, a queue that loses its data, the OpenAPI
//! document and schemathesis, the web app in a browser) and the composition root on real
//! backends. Build the binary first (`cargo build --bin anb`; `scripts/test` does).

mod support;

mod account;
mod chaos;
mod compose;
mod conversions;
mod deploy;
mod e2e_http;
mod hostile_media;
mod hostile_traffic;
mod oidc_login;
mod openapi;
mod page_cache;
mod poison_jobs;
mod queue_outage;
mod schemathesis;
mod sessions;
mod share_pages;
mod sharing;
mod streaming;
mod traces;
mod web_ui;
mod webhooks;
