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
fn anb_otlp_endpoint_turns_traces_on_and_blank_means_off() {
    jailed(|jail| {
        let off = Settings::load()?;
        assert_eq!(off.otlp_endpoint, None);
        assert!(off.describe().contains("traces=off"), "{}", off.describe());
        jail.set_env("ANB_OTLP_ENDPOINT", "http://127.0.0.1:4318/");
        let s = Settings::load()?;
        assert_eq!(s.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4318"));
        assert!(s.describe().contains("traces=http://127.0.0.1:4318"));
        jail.set_env("ANB_OTLP_ENDPOINT", "https://otel:s3cret@collector.example");
        let described = Settings::load()?.describe();
        assert!(!described.contains("s3cret"), "{described}");
        jail.set_env("ANB_OTLP_ENDPOINT", " ");
        assert_eq!(Settings::load()?.otlp_endpoint, None);
        Ok(())
    });
}

#[test]
fn an_otlp_endpoint_that_is_not_an_http_address_is_refused() {
    for bad in ["127.0.0.1:4318", "grpc://collector:4317", "http://", "otel"] {
        let error = with(&[("otlp_endpoint", bad)]).expect_err(bad);
        assert!(format!("{error:#}").contains("otlp_endpoint"), "{error:#}");
    }
}

#[test]
fn without_an_smtp_url_email_is_written_as_files_under_the_data_directory() {
    let s = with(&[("data_dir", "/srv/anb")]).unwrap();
    assert!(s.smtp_url.is_none());
    assert_eq!(s.mail_dir(), PathBuf::from("/srv/anb/mail"));
    assert_eq!(s.mail_from, DEFAULT_MAIL_FROM);
    assert!(
        s.describe().contains(
            "mail=files in /srv/anb/mail mail_from=\"ANB Showcase <no-reply@localhost>\""
        ),
        "{}",
        s.describe()
    );
}

#[test]
fn anb_smtp_url_and_anb_mail_from_are_taken_as_written_and_a_blank_url_is_none() {
    jailed(|jail| {
        let url = "smtp://anb%40example.com:p%40ss,w0rd@mail.example:587?tls=required";
        jail.set_env("ANB_SMTP_URL", url);
        jail.set_env("ANB_MAIL_FROM", "Liga ANB <avisos@anb.example>");
        let s = Settings::load()?;
        assert_eq!(s.smtp_url.as_ref().map(Secret::expose), Some(url));
        assert_eq!(s.mail_from, "Liga ANB <avisos@anb.example>");
        assert!(s.is_embedded()?, "an SMTP server shares no data");
        jail.set_env("ANB_SMTP_URL", "  ");
        assert!(Settings::load()?.smtp_url.is_none());
        Ok(())
    });
}

#[test]
fn a_sender_that_is_not_a_mailbox_and_an_smtp_url_of_another_scheme_are_refused() {
    for bad in [
        "",
        "no reply",
        "ANB <no-reply>",
        "a@b@c",
        // A line break would be a header of its own in every email: lettre refuses it.
        "ANB\r\nBcc: intruso@example.com <no-reply@anb.example>",
    ] {
        let err = with(&[("mail_from", bad)]).unwrap_err();
        assert!(format!("{err:#}").contains("mail_from"), "{bad:?}: {err:#}");
    }
    let err = with(&[("smtp_url", "imap://me:smtp-password@mail.example")]).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("unsupported SMTP URL"), "{text}");
    assert!(!text.contains("smtp-password"), "{text}");
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
        "playback_ttl_seconds",
        "max_pending_conversions",
        "access_token_ttl_seconds",
        "refresh_token_ttl_seconds",
    ] {
        let figment = Figment::new().merge((key, 0));
        assert!(Settings::from_figment(&figment).is_err(), "{key} = 0");
    }
}

#[test]
fn access_tokens_last_a_quarter_of_an_hour_and_refresh_tokens_a_month_unless_set() {
    let s = with(&[]).unwrap();
    assert_eq!(
        (s.access_token_ttl_seconds, s.refresh_token_ttl_seconds),
        (900, 30 * 24 * 3600)
    );
    let s = Settings::from_figment(
        &Figment::new()
            .merge(("access_token_ttl_seconds", 60))
            .merge(("refresh_token_ttl_seconds", 3600)),
    )
    .unwrap();
    assert_eq!(
        (s.access_token_ttl_seconds, s.refresh_token_ttl_seconds),
        (60, 3600)
    );
    // A refresh token outliving no access token, a day-long access token: refused.
    for (access, refresh) in [(3600, 60), (86_401, 86_401 * 2)] {
        let figment = Figment::new()
            .merge(("access_token_ttl_seconds", access))
            .merge(("refresh_token_ttl_seconds", refresh));
        assert!(
            Settings::from_figment(&figment).is_err(),
            "{access}/{refresh}"
        );
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
        ("smtp_url", "smtps://mailer:smtp-password@mail.example:465"),
    ])
    .unwrap();
    let text = s.describe();
    for secret in [
        "db-password",
        "redis-password",
        "cache-password",
        "a-jwt-secret",
        "smtp-password",
    ] {
        assert!(!text.contains(secret), "{text}");
    }
    for shown in [
        "postgres://anb:***@db:5432/anb",
        "redis://:***@cache:6379/0",
        "cache=redis://:***@pages:6379/1 (shared)",
        "s3://media",
        "mail=smtps://mailer:***@mail.example:465",
    ] {
        assert!(text.contains(shown), "{text}");
    }
    assert!(!format!("{s:?}").contains("a-jwt-secret"));
    assert!(!format!("{s:?}").contains("smtp-password"));
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

#[test]
fn media_limits_and_the_attempt_ceiling_default_to_the_domains_and_are_settable() {
    let s = with(&[]).unwrap();
    assert_eq!(s.media_limits, MediaLimits::default());
    assert_eq!(s.worker_max_attempts, 5);
    jailed(|jail| {
        jail.set_env("ANB_MEDIA_MAX_SIDE", "1920");
        jail.set_env("ANB_MEDIA_MAX_PIXELS", "2073600");
        jail.set_env("ANB_MEDIA_MAX_FPS", "60");
        jail.set_env("ANB_MEDIA_MAX_SECONDS", "90.5");
        jail.set_env("ANB_MEDIA_MAX_STREAMS", "3");
        jail.set_env("ANB_MEDIA_MAX_PIXEL_ASPECT", "2");
        jail.set_env("ANB_MEDIA_VIDEO_CODECS", "H264, hevc");
        jail.set_env("ANB_WORKER_MAX_ATTEMPTS", "2");
        let s = Settings::load()?;
        assert_eq!(
            s.media_limits,
            MediaLimits {
                max_side: 1920,
                max_pixels: 2_073_600,
                max_frame_rate: 60.0,
                max_duration_seconds: 90.5,
                max_streams: 3,
                max_pixel_aspect: 2.0,
                video_codecs: vec!["h264".into(), "hevc".into()],
            }
        );
        assert_eq!(s.worker_max_attempts, 2);
        Ok(())
    });
    jailed(|jail| {
        jail.create_file(
            "anb.toml",
            "media_video_codecs = [\"h264\"]\nmedia_max_seconds = 30",
        )?;
        let s = Settings::load()?;
        assert_eq!(s.media_limits.video_codecs, ["h264"]);
        assert!((s.media_limits.max_duration_seconds - 30.0).abs() < f64::EPSILON);
        Ok(())
    });
    for (key, value) in [
        ("media_max_side", "0"),
        ("media_max_pixels", "0"),
        ("media_max_fps", "0"),
        ("media_max_seconds", "-1"),
        ("media_max_streams", "0"),
        ("media_max_pixel_aspect", "0.5"),
        ("media_video_codecs", " , "),
        ("worker_max_attempts", "0"),
    ] {
        let err = with(&[(key, value)]).unwrap_err();
        assert!(format!("{err:#}").contains(key), "{key}={value}: {err:#}");
    }
}

#[test]
fn the_edge_limits_default_to_the_values_the_readme_lists() {
    let edge = with(&[]).unwrap().edge;
    assert_eq!(edge, EdgeLimits::default());
    assert_eq!(edge.header_timeout.as_secs(), 10);
    assert_eq!(edge.idle_timeout.as_secs(), 60);
    assert_eq!(edge.body_limit_bytes, 64 * 1024);
    assert_eq!(edge.min_body_bytes_per_second, 16 * 1024);
    assert_eq!(edge.max_connections, 1024);
    assert!(edge.trusted_proxies.is_empty());
    let rates = edge.rates;
    assert_eq!(rates.signup_per_address.to_string(), "10/hour");
    assert_eq!(rates.login_per_address.to_string(), "20/minute");
    assert_eq!(rates.login_per_account.to_string(), "10/minute");
    assert_eq!(rates.vote_per_account.to_string(), "30/minute");
    assert_eq!(rates.upload_per_account.to_string(), "20/hour");
}

#[test]
fn edge_limits_rates_and_trusted_proxies_are_read_from_the_settings() {
    let figment = Figment::new()
        .merge(("rate_vote_per_account", "5/hour"))
        .merge(("trusted_proxies", "10.0.0.0/8, 192.0.2.1 ,2001:db8::/32"))
        .merge(("http_max_connections", 7))
        .merge(("http_header_timeout_seconds", 3))
        .merge(("password_hash_concurrency", 2));
    let s = Settings::from_figment(&figment).unwrap();
    assert_eq!(s.edge.rates.vote_per_account.to_string(), "5/hour");
    let proxies: Vec<String> = s
        .edge
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
    assert_eq!(s.edge.max_connections, 7);
    assert_eq!(s.edge.header_timeout.as_secs(), 3);
    assert_eq!(s.edge.password_hash_concurrency, Some(2));
}

#[test]
fn malformed_rates_proxies_and_zero_limits_are_refused_naming_the_setting() {
    for (key, value, named) in [
        ("rate_signup_per_address", "lots", "lots"),
        ("trusted_proxies", "10.0.0.0/33", "trusted_proxies"),
    ] {
        let error = format!("{:#}", with(&[(key, value)]).unwrap_err());
        assert!(error.contains(named), "{key}={value}: {error}");
    }
    for key in [
        "http_max_connections",
        "http_header_timeout_seconds",
        "http_body_limit_kib",
        "password_hash_concurrency",
    ] {
        let figment = Figment::new().merge((key, 0));
        let error = format!("{:#}", Settings::from_figment(&figment).unwrap_err());
        assert!(
            error.contains(&format!("{key} must be at least 1")),
            "{key}: {error}"
        );
    }
}

#[test]
fn no_openid_provider_by_default() {
    assert_eq!(with(&[]).unwrap().oidc, None);
    assert!(with(&[]).unwrap().describe().contains("oidc=off"));
}

#[test]
fn an_openid_provider_from_the_environment_with_its_secret_masked() {
    jailed(|jail| {
        jail.set_env("ANB_OIDC_ISSUER", "https://login.example.org/realms/anb");
        jail.set_env("ANB_OIDC_CLIENT_ID", "12345");
        jail.set_env("ANB_OIDC_CLIENT_SECRET", "007");
        let s = Settings::load()?;
        let oidc = s.oidc.clone().expect("configured");
        assert_eq!(oidc.issuer, "https://login.example.org/realms/anb");
        // Taken verbatim: digits stay a string.
        assert_eq!(oidc.client_id, "12345");
        assert_eq!(oidc.client_secret.expose(), "007");
        assert_eq!(oidc.name, "login.example.org");
        let config = oidc.config();
        assert_eq!(
            (config.issuer.as_str(), config.client_secret.as_str()),
            ("https://login.example.org/realms/anb", "007")
        );
        let described = s.describe();
        assert!(
            described.contains("oidc=\"login.example.org\""),
            "{described}"
        );
        assert!(!described.contains("007"), "{described}");
        assert!(!format!("{s:?} {oidc:?} {config:?}").contains("007"));
        Ok(())
    });
}

#[test]
fn the_google_preset_names_googles_issuer_and_the_name_is_settable() {
    let google = [
        ("oidc_provider", "google"),
        ("oidc_client_id", "id.apps.googleusercontent.com"),
        ("oidc_client_secret", "GOCSPX-secret"),
    ];
    let oidc = with(&google).unwrap().oidc.unwrap();
    assert_eq!(oidc.issuer, "https://accounts.google.com");
    assert_eq!(oidc.name, "Google");
    // The same issuer given by hand is Google too.
    let by_hand = with(&[
        ("oidc_issuer", "https://accounts.google.com"),
        google[1],
        google[2],
    ])
    .unwrap();
    assert_eq!(by_hand.oidc.unwrap().name, "Google");
    let named = with(&[
        google[0],
        google[1],
        google[2],
        ("oidc_name", "Google Workspace"),
    ]);
    assert_eq!(named.unwrap().oidc.unwrap().name, "Google Workspace");
}

#[test]
fn openid_settings_come_all_together_or_not_at_all() {
    let full = [
        ("oidc_issuer", "https://id.example.org"),
        ("oidc_client_id", "anb"),
        ("oidc_client_secret", "s3cret"),
    ];
    for missing in 0..full.len() {
        let partial: Vec<_> = (0..full.len())
            .filter(|i| *i != missing)
            .map(|i| full[i])
            .collect();
        let err = with(&partial).unwrap_err();
        let key = if missing == 0 {
            "oidc_issuer"
        } else {
            full[missing].0
        };
        assert!(format!("{err:#}").contains(key), "{err:#}");
    }
    let err = with(&[("oidc_provider", "google")]).unwrap_err();
    assert!(
        format!("{err:#}").contains("oidc_client_id, oidc_client_secret"),
        "{err:#}"
    );
    let err = with(&[("oidc_name", "Orphan")]).unwrap_err();
    assert!(format!("{err:#}").contains("oidc_name"), "{err:#}");
    // Blank is absent.
    assert_eq!(
        with(&[("oidc_issuer", " "), ("oidc_client_secret", "")])
            .unwrap()
            .oidc,
        None
    );
}

#[test]
fn unknown_presets_conflicting_and_insecure_issuers_are_refused() {
    let client = [("oidc_client_id", "anb"), ("oidc_client_secret", "s3cret")];
    let refused = |issuer: (&str, &str), expected: &str| {
        let err = with(&[issuer, client[0], client[1]]).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{err:#}");
    };
    refused(("oidc_provider", "facebook"), "unknown preset");
    refused(("oidc_issuer", "http://id.example.org"), "https://");
    refused(("oidc_issuer", "not a url"), "not a URL");
    refused(("oidc_issuer", "https://id.example.org/?x=1"), "no query");
    let err = with(&[
        ("oidc_provider", "google"),
        ("oidc_issuer", "https://id.example.org"),
        client[0],
        client[1],
    ])
    .unwrap_err();
    assert!(format!("{err:#}").contains("set one of them"), "{err:#}");
    // The loopback may use http (tests).
    let local = with(&[
        ("oidc_issuer", "http://127.0.0.1:4000"),
        client[0],
        client[1],
    ]);
    assert_eq!(local.unwrap().oidc.unwrap().name, "127.0.0.1");
}

#[test]
fn votes_require_a_verified_email_by_default_only_with_an_smtp_server_and_links_use_the_public_url()
{
    let files = with(&[]).unwrap();
    assert!(!files.vote_requires_verified_email);
    assert_eq!(files.public_url, "http://127.0.0.1:8080");
    let smtp = with(&[("smtp_url", "smtp://127.0.0.1:2525")]).unwrap();
    assert!(smtp.vote_requires_verified_email);
    let off = Settings::from_figment(
        &Figment::new()
            .merge(("smtp_url", "smtp://127.0.0.1:2525"))
            .merge(("vote_requires_verified_email", false)),
    )
    .unwrap();
    assert!(!off.vote_requires_verified_email);
    jailed(|jail| {
        jail.set_env("ANB_VOTE_REQUIRES_VERIFIED_EMAIL", "true");
        jail.set_env("ANB_PUBLIC_URL", "https://anb.example/");
        let s = Settings::load()?;
        assert!(s.vote_requires_verified_email);
        assert_eq!(s.public_url, "https://anb.example");
        Ok(())
    });
    for bad in ["anb.example", "ftp://anb.example", "https://"] {
        assert!(with(&[("public_url", bad)]).is_err(), "{bad}");
    }
}

#[test]
fn the_deployment_webhook_comes_with_its_secret_masked_and_retries_are_settable() {
    jailed(|jail| {
        jail.set_env("ANB_WEBHOOK_URL", "https://hooks.example.org/anb");
        jail.set_env("ANB_WEBHOOK_SECRET", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=");
        jail.set_env("ANB_WEBHOOK_ALLOW_PRIVATE", "true");
        jail.set_env("ANB_WEBHOOK_RETRY_FIRST_MS", "250");
        jail.set_env("ANB_WEBHOOK_GIVE_UP_AFTER_SECONDS", "60");
        let s = Settings::load()?;
        let (url, secret) = s.webhooks.deployment.clone().expect("configured");
        assert_eq!(url, "https://hooks.example.org/anb");
        assert_eq!(secret.expose(), "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=");
        assert!(s.webhooks.allow_private);
        assert_eq!(s.webhooks.retry.first_delay, Duration::from_millis(250));
        assert_eq!(s.webhooks.retry.give_up_after, Duration::from_secs(60));
        let described = s.describe();
        assert!(
            described.contains("webhook=https://hooks.example.org/anb"),
            "{described}"
        );
        assert!(!described.contains("c2VjcmV0") && !format!("{s:?}").contains("c2VjcmV0"));
        Ok(())
    });
    let defaults = with(&[]).unwrap();
    assert!(defaults.webhooks.deployment.is_none() && !defaults.webhooks.allow_private);
    assert_eq!(
        defaults.webhooks.retry.give_up_after,
        Duration::from_secs(24 * 3600)
    );
}

#[test]
fn a_webhook_url_without_its_secret_a_bad_secret_and_a_short_ops_token_are_refused() {
    let url = ("webhook_url", "https://hooks.example.org/anb");
    assert!(with(&[url]).is_err());
    assert!(with(&[("webhook_secret", "whsec_abc")]).is_err());
    assert!(with(&[url, ("webhook_secret", "not-a-standard-secret")]).is_err());
    assert!(with(&[("webhook_url", "ftp://x"), ("webhook_secret", "whsec_YWJj")]).is_err());
    assert!(with(&[("ops_token", "short")]).is_err());
    let s = with(&[("ops_token", "a-long-enough-operator-token")]).unwrap();
    assert_eq!(
        s.ops_token.unwrap().expose(),
        "a-long-enough-operator-token"
    );
}
