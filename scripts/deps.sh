#!/bin/sh
# Installs the Debian 12 packages strata needs to build, test and demo; does nothing when all
# are present. Idempotent; run as root (or via sudo).
set -e
PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev clang-format
libjansson-dev libarchive-dev libssl-dev zlib1g-dev libzstd-dev libdeflate-dev libisal-dev
libsqlite3-dev libcurl4-openssl-dev
bats docker-registry busybox-static buildah skopeo podman umoci runc jq sqlite3 curl python3 zstd
apache2-utils openssl"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
