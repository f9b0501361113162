#!/usr/bin/env bash
# The C test programs once more, built with AddressSanitizer (and
# UndefinedBehaviorSanitizer) against the shared library: a C caller that
# misuses what the library hands out, or a library that writes past what it
# hands out, fails here. The Rust library itself is not instrumented; ASan
# still sees every allocation through its malloc, so LeakSanitizer reports
# what either side forgot to free.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

echo "== asan: build the library and the Rust peer"
cargo build --locked -p runledger-capi --lib --example cross_language_peer
work=$(mktemp -d /tmp/runledger-test-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
lib=$root/target/debug

flags=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -g -O1 -pthread
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
programs=(supersede bad_input threads docker_kill example cross_language)
passed=0
for program in "${programs[@]}"; do
    gcc "${flags[@]}" -Iinclude -Itests/c "tests/c/$program.c" -o "$work/$program" \
        -L"$lib" -lrunledger -Wl,-rpath,"$lib"
    dir=$(mktemp -d "$work/run.XXXXXX")
    echo "-- $program (asan)"
    if [ "$program" = cross_language ]; then
        db=$dir/cross.db
        "$lib/examples/cross_language_peer" "$db" &
        peer=$!
        (cd "$dir" && "$work/$program" "$db")
        wait "$peer"
    else
        (cd "$dir" && "$work/$program")
    fi
    passed=$((passed + 1))
done
echo "asan: $passed programs passed with AddressSanitizer and UBSan"
