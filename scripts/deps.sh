#!/bin/sh
# Install the Debian 12 packages qmc needs to build and test (no-op when present).
# Runs apt-get through sudo when not root.
set -eu
PKGS="build-essential time pkg-config libcjson-dev libcmocka-dev libpcre2-dev libopenblas-dev liblapacke-dev gnuplot-nox clang libclang-rt-14-dev libomp-14-dev valgrind"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "qmc: installing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
