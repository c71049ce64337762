//! A real S3-protocol server (s3s-fs: S3 over a directory, with SigV4 checks) started on
//! 127.0.0.1:0 inside the test's runtime, with dummy credentials.

use crate::blob::S3Settings;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

/// The dummy access key the server accepts.
pub const ACCESS_KEY: &str = "anb-test-access-key";
/// The dummy secret the server accepts.
pub const SECRET_KEY: &str = "anb-test-secret-key-0123456789";

/// A running server with one bucket.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket created for this server.
    pub bucket: String,
}

impl S3Server {
    /// Settings that reach this server's bucket with the right credentials.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            bucket: self.bucket.clone(),
            endpoint: Some(self.endpoint.clone()),
            region: "us-east-1".into(),
            path_style: true,
            allow_http: true,
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
        }
    }
}

/// Starts a server; it runs until the calling test's runtime ends.
pub async fn start() -> S3Server {
    let root = std::env::temp_dir().join(format!("anb-test-s3-{}", uuid::Uuid::new_v4().simple()));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    serve(&root, listener)
}

/// Serves the directory `root` (its bucket `anb-media` created when missing) on `listener`,
/// until the calling runtime ends (`examples/s3_server.rs` runs it as a process).
///
/// # Panics
/// When `root` cannot be made, or the listener has no address.
pub fn serve(root: &std::path::Path, listener: TcpListener) -> S3Server {
    let bucket = "anb-media".to_owned();
    std::fs::create_dir_all(root.join(&bucket)).expect("creating the S3 root");
    let fs = s3s_fs::FileSystem::new(root).expect("an s3s-fs root");
    let service = {
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        builder.build()
    };
    let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    S3Server { endpoint, bucket }
}
