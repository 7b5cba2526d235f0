#!/bin/sh
# deps.sh: install the Debian packages corral needs to build (and, with
# "test", to run its test suite), skipping any that are already present.
set -e
BUILD="build-essential pkg-config libuv1-dev zlib1g-dev libssl-dev libedit-dev libmicrohttpd-dev libcjson-dev"
TEST="libcmocka-dev python3 python3-pytest python3-kazoo libzookeeper-mt-dev zookeeper clang libclang-rt-14-dev netcat-openbsd tmux python3-mock python3-objgraph default-jdk-headless libcurator-recipes-java"
want="$BUILD"
[ "$1" = "test" ] && want="$BUILD $TEST"
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/corral-apt.XXXXXX)
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    cat "$log"
    echo "deps.sh: apt-get failed (log above)" >&2
    exit 1
fi
rm -f "$log"
