#!/bin/sh
# tools/fetch.sh SUITE VERSION DEST [PACKAGE]: fetch a Debian source package, once.
#
# PACKAGE defaults to micropython; lwip and mbedtls are fetched the same way (pinned in the
# Makefile).
# Uses `apt-get source` with a private apt configuration under build/apt (the machine's own
# apt sources are never edited). The mirror is the one the machine already uses for Debian:
# read from /etc/apt/sources.list{,.d/*}, so no host name is written anywhere in the repo.
# apt checks the Release signature against the Debian archive keyring and the hashes of
# the source files. Any Debian revision of the pinned upstream VERSION is accepted (the
# archive keeps only the latest): VERSION+ds..., VERSION-1, VERSION-0.1~deb13u1. The unpacked tree is linked at DEST.
set -eu
suite=$1 version=$2 dest=$3 pkg=${4:-micropython}
[ -d "$dest/" ] && exit 0

apt_dir=$(pwd)/build/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" build/src

# The first Debian main-archive URI among the machine's sources (deb822 or one-line form).
uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /debian\/?$/) { print $i; exit } }')
if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*debian\/?$/) { print $i; exit } }')
fi
[ -n "$uri" ] || { echo "fetch: no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb-src [signed-by=$keyring] $uri $suite main" > "$apt_dir/sources.list"
opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o APT::Sandbox::User=root"

echo "fetch: $pkg $version source from Debian $suite"
apt-get $opts update -q
full=$(apt-cache $opts showsrc "$pkg" | awk -v v="$version" \
       '/^Version:/ && (index($2, v "+") == 1 || index($2, v "-") == 1) { print $2 }' | sort -V | tail -n 1)
[ -n "$full" ] || { echo "fetch: Debian $suite has no $pkg $version" >&2; exit 1; }
(cd build/src && apt-get $opts source -q "$pkg=$full")
src=$(ls -d build/src/"$pkg"-"$version"* | head -n 1)
ln -sfn "$(cd "$src" && pwd)" "$dest"
echo "fetch: unpacked $full at $dest"
