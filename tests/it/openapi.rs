//! `anb openapi` prints an OpenAPI 3 document that an independent validator accepts, and that
//! documents every operation of the contract.

use std::process::Command;

fn spec() -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_anb"))
        .arg("openapi")
        .output()
        .expect("the anb binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_printed_spec_passes_openapi_spec_validator() {
    let validator = std::env::var("ANB_OPENAPI_VALIDATOR").expect(
        "ANB_OPENAPI_VALIDATOR names the openapi-spec-validator executable; \
         scripts/test installs it (pip, under target/tools) and sets it",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&spec()).unwrap()).unwrap();
    let out = Command::new(&validator)
        .arg(&path)
        .output()
        .expect("the validator runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_spec_documents_every_operation_of_the_contract_with_the_bearer_scheme() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/auth/signup", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/me", "get"),
        ("/api/videos/upload", "post"),
        ("/api/videos", "get"),
        ("/api/videos/{video_id}", "get"),
        ("/api/videos/{video_id}", "delete"),
        ("/api/videos/{video_id}/publish", "post"),
        ("/api/videos/{video_id}/unpublish", "post"),
        ("/api/videos/{video_id}/original", "get"),
        ("/api/videos/{video_id}/processed", "get"),
        ("/api/public/videos", "get"),
        ("/api/public/videos/{video_id}/vote", "post"),
        ("/api/public/rankings", "get"),
        ("/api/public/videos/{video_id}/stream", "get"),
        ("/health", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }
    let upload = &paths["/api/videos/upload"]["post"];
    assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
    assert!(
        upload["security"].is_array(),
        "upload needs the bearer token"
    );
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.values().any(|s| s["scheme"] == "bearer"));
}
