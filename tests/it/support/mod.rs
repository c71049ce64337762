//! What the end-to-end tests share: the `anb` binary as a child process ([`app`]) and an
//! `anb worker` beside it ([`worker_process`]), an HTTP client speaking the contract
//! ([`client`]) and a raw-socket one ([`raw_http`]), a WebDriver browser ([`browser`]), and
//! servers of the test's own: a Redis without persistence ([`redis_server`]) and a PostgreSQL
//! cluster run with `pg_ctl` ([`pg_cluster`]); the status changes of every video, read from
//! PostgreSQL ([`status_changes`]); the tokens of mailed links ([`mail`]); an OpenTelemetry
//! collector that keeps the spans it receives ([`otlp_receiver`]).

pub mod app;
pub mod browser;
pub mod client;
pub mod mail;
pub mod otlp_receiver;
pub mod pg_cluster;
pub mod raw_http;
pub mod redis_server;
pub mod status_changes;
pub mod worker_process;

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
