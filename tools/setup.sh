#!/bin/sh
# tools/setup.sh: install what building and testing MultiOS needs, idempotently.
#
# Debian packages (toolchains, QEMU, dpkg-dev for the MicroPython source package) through
# apt-get, and a virtualenv at .venv with pytest, pexpect and mpremote from PyPI. When all is
# present it only checks and costs a second or two. Uses sudo only when not root.
set -eu
cd "$(dirname "$0")/.."

DEBS="build-essential gcc-arm-none-eabi libnewlib-arm-none-eabi libnewlib-dev qemu-system-arm
qemu-system-x86 libffi-dev pkgconf dpkg-dev python3-venv gdb-multiarch apache2-utils"
PIPS="pytest pexpect mpremote"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=""
for p in $DEBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

stamp=.venv/.multios-setup
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$PIPS" ]; then
    echo "setup: creating .venv with $PIPS"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check $PIPS
    echo "$PIPS" > "$stamp"
fi
