use figment::{Figment, Jail};

use super::*;

fn with(pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let figment = pairs
        .iter()
        .fold(Figment::new(), |f, (k, v)| f.merge((*k, *v)));
    Settings::from_figment(&figment)
}

/// Runs `f` in a figment jail (its own working directory and environment), failing on error.
#[allow(clippy::result_large_err)] // figment::Error is the jail's error type, not ours
fn jailed(f: impl FnOnce(&mut Jail) -> anyhow::Result<()>) {
    Jail::expect_with(|jail| f(jail).map_err(|e| format!("{e:#}").into()));
}

#[test]
fn the_defaults_are_the_embedded_backends_under_the_data_directory() {
    let s = with(&[]).unwrap();
    assert_eq!(s.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database_url, "sqlite://data/anb.db");
    assert_eq!(s.queue_url, "db://");
    assert_eq!(s.blob_url, "file://data/blobs");
    assert_eq!(s.profile.name, "showcase");
    assert_eq!(s.max_upload_bytes(), 100 * 1024 * 1024);
    assert_eq!(
        (s.log_format, s.worker_lease_seconds),
        (LogFormat::Text, 60)
    );
    assert!(s.jwt_secret.is_none() && s.cors_origins.is_empty());
    assert!(s.cache_url.is_none());
    assert!(s.is_embedded().unwrap());
}

#[test]
fn the_file_overrides_the_defaults_and_the_environment_overrides_the_file() {
    jailed(|jail| {
        jail.create_file(
            "anb.toml",
            r#"
                database_url = "postgres://anb:pw@db/anb"
                queue_url = "redis://127.0.0.1:6379"
                profile = "anb-course"
                max_upload_mb = 20
                cors_origins = ["https://a.example", "https://b.example"]
            "#,
        )?;
        jail.set_env("ANB_MAX_UPLOAD_MB", "50");
        jail.set_env("ANB_LOG_FORMAT", "json");
        jail.set_env("ANB_WORKER_CONCURRENCY", "3");
        jail.set_env("ANB_UNRELATED_THING", "ignored");
        let s = Settings::load()?;
        assert_eq!(s.database_url, "postgres://anb:pw@db/anb");
        assert_eq!(s.queue_url, "redis://127.0.0.1:6379");
        assert_eq!(s.profile.name, "anb-course");
        assert_eq!(s.max_upload_mb, 50);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.worker_concurrency, Some(3));
        assert_eq!(s.cors_origins, ["https://a.example", "https://b.example"]);
        assert!(!s.is_embedded()?);
        Ok(())
    });
}

#[test]
fn anb_config_names_the_file_and_a_missing_one_is_an_error() {
    jailed(|jail| {
        jail.create_file("elsewhere.toml", "max_upload_mb = 7")?;
        jail.set_env(CONFIG_ENV, "elsewhere.toml");
        assert_eq!(Settings::load()?.max_upload_mb, 7);
        jail.set_env(CONFIG_ENV, "missing.toml");
        let err = Settings::load().unwrap_err();
        assert!(err.to_string().contains("missing.toml"), "{err:#}");
        Ok(())
    });
}

#[test]
fn an_unknown_key_in_the_file_is_refused() {
    jailed(|jail| {
        jail.create_file("anb.toml", "max_uplod_mb = 7")?;
        let err = Settings::load().unwrap_err();
        assert!(format!("{err:#}").contains("max_uplod_mb"), "{err:#}");
        Ok(())
    });
}

#[test]
fn environment_values_are_taken_as_written() {
    jailed(|jail| {
        jail.set_env("ANB_CORS_ORIGINS", "https://a.example, https://b.example");
        let digits = "1234567890".repeat(4);
        jail.set_env("ANB_JWT_SECRET", &digits);
        jail.set_env("ANB_DATA_DIR", "/srv/anb");
        let s = Settings::load()?;
        assert_eq!(s.cors_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(
            s.jwt_secret.as_ref().map(Secret::expose),
            Some(digits.as_str())
        );
        assert_eq!(s.database_url, "sqlite:///srv/anb/anb.db");
        Ok(())
    });
}

#[test]
fn anb_cache_url_names_a_shared_redis_for_the_public_pages_and_blank_means_none() {
    jailed(|jail| {
        assert!(Settings::load()?.describe().contains("cache=in-process"));
        jail.set_env("ANB_CACHE_URL", "redis://127.0.0.1:6379/2");
        let s = Settings::load()?;
        assert_eq!(s.cache_url.as_deref(), Some("redis://127.0.0.1:6379/2"));
        assert!(s.is_embedded()?, "a shared cache alone shares no data");
        jail.set_env("ANB_CACHE_URL", " ");
        assert_eq!(Settings::load()?.cache_url, None);
        Ok(())
    });
}

#[test]
fn unknown_profiles_backends_and_zero_limits_are_refused() {
    for (key, value, says) in [
        ("profile", "cinema", "unknown processing profile"),
        ("database_url", "mysql://x", "unsupported database URL"),
        ("queue_url", "amqp://x", "unsupported queue URL"),
        ("blob_url", "ftp://x", "unsupported blob store URL"),
        ("cache_url", "memcached://x", "unsupported cache URL"),
        ("log_format", "xml", "reading the settings"),
        ("http_addr", "not an address", "reading the settings"),
    ] {
        let err = with(&[(key, value)]).unwrap_err();
        assert!(err.to_string().contains(says), "{key}: {err:#}");
    }
    for key in [
        "max_upload_mb",
        "worker_lease_seconds",
        "worker_concurrency",
    ] {
        let figment = Figment::new().merge((key, 0));
        assert!(Settings::from_figment(&figment).is_err(), "{key} = 0");
    }
}

#[test]
fn describe_names_every_backend_and_masks_credentials() {
    let s = with(&[
        ("database_url", "postgres://anb:db-password@db:5432/anb"),
        ("queue_url", "redis://:redis-password@cache:6379/0"),
        ("cache_url", "redis://:cache-password@pages:6379/1"),
        (
            "blob_url",
            "s3://media?endpoint=https://s3.example&region=eu",
        ),
        ("jwt_secret", "a-jwt-secret-that-is-long-enough-to-use"),
    ])
    .unwrap();
    let text = s.describe();
    for secret in [
        "db-password",
        "redis-password",
        "cache-password",
        "a-jwt-secret",
    ] {
        assert!(!text.contains(secret), "{text}");
    }
    for shown in [
        "postgres://anb:***@db:5432/anb",
        "redis://:***@cache:6379/0",
        "cache=redis://:***@pages:6379/1 (shared)",
        "s3://media",
    ] {
        assert!(text.contains(shown), "{text}");
    }
    assert!(!format!("{s:?}").contains("a-jwt-secret"));
    assert_eq!(
        mask_url("s3://b?endpoint=x&secret_key=abc"),
        "s3://b?endpoint=x&secret_key=***"
    );
}

#[test]
fn on_embedded_backends_a_jwt_secret_is_generated_once_and_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = with(&[("data_dir", data.to_str().unwrap())]).unwrap();
    let first = s.resolve_jwt_secret().unwrap();
    assert!(first.expose().len() >= 32);
    assert_eq!(
        s.resolve_jwt_secret().unwrap(),
        first,
        "reused on the next start"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.jwt_secret_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let other = tempfile::tempdir().unwrap();
    let elsewhere = with(&[("data_dir", other.path().to_str().unwrap())]).unwrap();
    assert_ne!(elsewhere.resolve_jwt_secret().unwrap(), first);
}

#[test]
fn shared_backends_refuse_a_missing_or_short_jwt_secret() {
    let shared = [("database_url", "postgres://db/anb")];
    let err = with(&shared).unwrap().resolve_jwt_secret().unwrap_err();
    assert!(
        err.to_string().contains("ANB_JWT_SECRET is not set"),
        "{err}"
    );
    let short = with(&[shared[0], ("jwt_secret", "short")]).unwrap();
    let err = short.resolve_jwt_secret().unwrap_err();
    assert!(err.to_string().contains("at least 32"), "{err}");
    let long = "x".repeat(32);
    let strong = with(&[shared[0], ("jwt_secret", long.as_str())]).unwrap();
    assert_eq!(strong.resolve_jwt_secret().unwrap().expose(), long);
}
