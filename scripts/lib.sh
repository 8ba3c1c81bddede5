# Shared by scripts/test and scripts/demo. Source it; do not run it.
# shellcheck shell=bash

MIPVPN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build and the test peers need.
MIPVPN_BUILD_PKGS=(meson ninja-build pkg-config g++ clang libclang-rt-14-dev
  dpdk-dev libdpdk-dev libipsec-mb-dev libconfig++-dev libgtest-dev libpcap-dev)
MIPVPN_PEER_PKGS=(python3-scapy tshark tcpdump dpdk-doc strongswan-charon strongswan-swanctl
  libstrongswan-extra-plugins libcharon-extra-plugins)

log() { printf '[mipvpn] %s\n' "$*" >&2; }

# Install whatever of "$@" is missing; quiet when everything is there.
ensure_pkgs() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]} (run as root to install them)"
    return 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for CI.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# meson setup once, reconfigure when asked; then build.
# usage: build_dir DIR [meson setup args...]
build_dir() {
  local dir=$1; shift
  if [ ! -f "$MIPVPN_ROOT/$dir/build.ninja" ]; then
    meson setup "$MIPVPN_ROOT/$dir" "$MIPVPN_ROOT" "$@" >/dev/null
  fi
  ninja -C "$MIPVPN_ROOT/$dir" >/dev/null || ninja -C "$MIPVPN_ROOT/$dir"
}
