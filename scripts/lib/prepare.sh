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

# System packages the build needs (C toolchain, pkg-config).
need_system_packages() {
  local missing=()
  command -v cc >/dev/null 2>&1 || missing+=(build-essential)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
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
