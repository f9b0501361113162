#!/usr/bin/env bash
# Builds the C library in release mode and installs it under a prefix:
#   <prefix>/lib/librunledger.so, <prefix>/lib/librunledger.a,
#   <prefix>/include/runledger.h, <prefix>/lib/pkgconfig/runledger.pc
# Usage: capi/install.sh [prefix]   (default /usr/local)
# Set RUNLEDGER_PROFILE=debug to install a debug build instead.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${1:-/usr/local}
profile=${RUNLEDGER_PROFILE:-release}
if [ "$profile" = release ]; then
    cargo build --locked --release -p runledger-capi
else
    cargo build --locked -p runledger-capi
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 "target/$profile/librunledger.so" "$prefix/lib/"
install -m 0644 "target/$profile/librunledger.a" "$prefix/lib/"
install -m 0644 include/runledger.h "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$prefix/lib|" \
    -e "s|@INCLUDEDIR@|$prefix/include|" -e "s|@VERSION@|$version|" \
    capi/runledger.pc.in >"$prefix/lib/pkgconfig/runledger.pc"
echo "installed runledger $version under $prefix"
