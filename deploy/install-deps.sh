#!/usr/bin/env bash
# Install the Debian packages handoff needs, only those that are missing.
#   deploy/install-deps.sh          build + run
#   deploy/install-deps.sh --test   also what the test suite needs (python readers, LibreOffice,
#                                   systemd-analyze, openssl for the TLS test cert)
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail

build_pkgs=(
    build-essential cmake pkg-config
    libzmq3-dev libczmq-dev libsodium-dev libmsgpack-dev libxlsxwriter-dev
    libsqlite3-dev libcsv-dev libyaml-dev libjansson-dev libmicrohttpd-dev
    libcurl4-openssl-dev libutf8proc-dev libcmocka-dev zlib1g-dev libgnutls28-dev
    libjemalloc-dev
    tzdata
)
test_pkgs=(
    python3 python3-openpyxl python3-zmq python3-msgpack python3-xlsxwriter
    sqlite3 clang libclang-rt-14-dev valgrind
    libreoffice-calc-nogui poppler-utils
    systemd openssl python3-yaml python3-prometheus-client man-db
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
    want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#want[@]} packages present"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
echo "deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
