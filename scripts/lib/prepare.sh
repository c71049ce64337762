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
