//! Blob store URLs: `memory://`, `file://PATH`, `s3://BUCKET?endpoint=…&region=…`.

use std::fmt;
use std::path::PathBuf;

use anyhow::{bail, Context as _};

/// Where blobs live, parsed from a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobLocation {
    /// `memory://`: in process, lost at exit.
    Memory,
    /// `file://data/blobs` (relative to the working directory) or `file:///srv/blobs`.
    File(PathBuf),
    /// `s3://bucket?…`: S3 or an S3-compatible server.
    S3(S3Settings),
}

/// Settings of an S3 (or S3-compatible) bucket.
///
/// From a URL: `s3://BUCKET?endpoint=URL&region=NAME&path_style=true&allow_http=true`.
/// `endpoint` is optional (AWS by default); `region` defaults to `us-east-1`; `path_style`
/// (bucket in the path, as MinIO and most self-hosted servers want) defaults to `true` when an
/// endpoint is given; `allow_http` defaults to `false` and must be asked for explicitly.
/// Credentials come from the standard environment (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, instance metadata, …) unless set here.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL for S3-compatible servers; `None` for AWS.
    pub endpoint: Option<String>,
    /// Region.
    pub region: String,
    /// Address the bucket in the path instead of the host name.
    pub path_style: bool,
    /// Allow plain `http://` endpoints.
    pub allow_http: bool,
    /// Access key id; `None` reads the environment.
    pub access_key_id: Option<String>,
    /// Secret access key; `None` reads the environment. Never printed.
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("allow_http", &self.allow_http)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

fn flag(name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => bail!("{name} must be true or false, not {other:?}"),
    }
}

impl BlobLocation {
    /// Parses a blob store URL.
    ///
    /// ```
    /// use anb_adapters::blob::BlobLocation;
    /// assert_eq!(BlobLocation::parse("memory://").unwrap(), BlobLocation::Memory);
    /// assert_eq!(BlobLocation::parse("file://data/blobs").unwrap(), BlobLocation::File("data/blobs".into()));
    /// let BlobLocation::S3(s3) = BlobLocation::parse("s3://media?endpoint=http://127.0.0.1:9000&allow_http=true").unwrap() else { panic!() };
    /// assert_eq!((s3.bucket.as_str(), s3.path_style, s3.allow_http), ("media", true, true));
    /// ```
    ///
    /// # Errors
    /// For an unknown scheme, an empty path or bucket, an unknown S3 option, or an `http://`
    /// endpoint without `allow_http=true`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url == "memory://" || url == "memory:" {
            return Ok(Self::Memory);
        }
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                bail!("file:// needs a directory, e.g. file://data/blobs");
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if url.starts_with("s3://") {
            return Self::parse_s3(url).map(Self::S3);
        }
        bail!("unsupported blob store URL {url:?} (expected memory://, file://PATH or s3://BUCKET)")
    }

    fn parse_s3(raw: &str) -> anyhow::Result<S3Settings> {
        let url = url::Url::parse(raw).context("parsing the S3 URL")?;
        let bucket = url.host_str().unwrap_or_default().to_owned();
        if bucket.is_empty() {
            bail!("s3:// needs a bucket, e.g. s3://media");
        }
        let mut settings = S3Settings {
            bucket,
            endpoint: None,
            region: "us-east-1".into(),
            path_style: false,
            allow_http: false,
            access_key_id: None,
            secret_access_key: None,
        };
        let mut path_style = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "endpoint" => settings.endpoint = Some(value.into_owned()),
                "region" => settings.region = value.into_owned(),
                "path_style" => path_style = Some(flag("path_style", &value)?),
                "allow_http" => settings.allow_http = flag("allow_http", &value)?,
                other => {
                    bail!("unknown S3 option {other:?} (endpoint, region, path_style, allow_http)")
                }
            }
        }
        settings.path_style = path_style.unwrap_or(settings.endpoint.is_some());
        if let Some(endpoint) = &settings.endpoint {
            if endpoint.starts_with("http://") && !settings.allow_http {
                bail!("the S3 endpoint {endpoint} is plain http: add allow_http=true to allow it");
            }
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_keep_relative_and_absolute_paths() {
        assert_eq!(
            BlobLocation::parse("file:///srv/blobs").unwrap(),
            BlobLocation::File("/srv/blobs".into())
        );
        assert!(BlobLocation::parse("file://").is_err());
    }

    #[test]
    fn s3_urls_default_to_aws_with_https_and_virtual_hosts() {
        let BlobLocation::S3(s3) = BlobLocation::parse("s3://media?region=eu-west-1").unwrap()
        else {
            panic!("not s3")
        };
        assert_eq!(s3.region, "eu-west-1");
        assert_eq!(
            (s3.endpoint, s3.path_style, s3.allow_http),
            (None, false, false)
        );
    }

    #[test]
    fn plain_http_endpoints_must_be_allowed_explicitly() {
        let err = BlobLocation::parse("s3://media?endpoint=http://127.0.0.1:9000").unwrap_err();
        assert!(err.to_string().contains("allow_http"), "{err}");
    }

    #[test]
    fn unknown_schemes_and_options_are_refused() {
        assert!(BlobLocation::parse("ftp://x").is_err());
        assert!(BlobLocation::parse("s3://media?colour=blue").is_err());
        assert!(BlobLocation::parse("s3://?region=x").is_err());
    }

    #[test]
    fn the_secret_never_prints() {
        let mut s3 = match BlobLocation::parse("s3://m").unwrap() {
            BlobLocation::S3(s3) => s3,
            _ => unreachable!(),
        };
        s3.secret_access_key = Some("hunter2".into());
        assert!(!format!("{s3:?}").contains("hunter2"));
    }
}
