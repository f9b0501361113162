#!/usr/bin/env bash
# The C library's suite: builds librunledger.so and librunledger.a, checks
# the committed header is what cbindgen makes of the sources, installs the
# library with its pkg-config file into a scratch prefix, compiles the C
# test programs with -Wall -Wextra -Werror against the shared library and
# against the static one, runs them, runs them under valgrind memcheck, and
# runs the cross-language test. Prints a count per program and in total and
# exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

echo "== c: build the library and the Rust peer"
cargo build --locked -p runledger-capi --lib --example cross_language_peer

echo "== c: the committed header matches the sources"
cargo test --locked -p runledger-capi --test header

work=$(mktemp -d /tmp/runledger-test-c.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
RUNLEDGER_PROFILE=debug bash capi/install.sh "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

cflags=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -g -pthread)
# The static library, plus what the pkg-config file says it needs.
static_libs=$(pkg-config --static --libs-only-l runledger | sed 's/-lrunledger//')
programs=(supersede bad_input threads docker_kill example cross_language)
mkdir -p "$work/shared" "$work/static"
for program in "${programs[@]}"; do
    # shellcheck disable=SC2046 # pkg-config output is a list of flags
    gcc "${cflags[@]}" -Itests/c $(pkg-config --cflags runledger) \
        "tests/c/$program.c" -o "$work/shared/$program" \
        $(pkg-config --libs runledger) -Wl,-rpath,"$prefix/lib"
    # shellcheck disable=SC2046,SC2086
    gcc "${cflags[@]}" -Itests/c $(pkg-config --cflags runledger) \
        "tests/c/$program.c" -o "$work/static/$program" \
        "$prefix/lib/librunledger.a" $static_libs
done
if ldd "$work/static/supersede" | grep -q librunledger; then
    echo "c: the static build still loads librunledger.so" >&2
    exit 1
fi
# The shared library exports the C API and nothing else (no sqlite3_*, no
# Rust symbol), so it cannot clash with a program's own copy of SQLite.
foreign=$(readelf --dyn-syms -W "$prefix/lib/librunledger.so" |
    awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $8 != "" { print $8 }' |
    grep -v '^runs_' || true)
if [ -n "$foreign" ]; then
    echo "c: librunledger.so exports symbols outside runs_*:" >&2
    echo "$foreign" | head >&2
    exit 1
fi
echo "compiled ${#programs[@]} programs against the shared and the static library"

passed=0
failed=0
failures=()
record() {
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$2")
    fi
}

# Runs one program in its own scratch directory (the example writes
# example.db into the current directory).
run() {
    local label=$1
    shift
    local dir
    dir=$(mktemp -d "$work/run.XXXXXX")
    echo "-- $label"
    set +e
    (cd "$dir" && "$@")
    local status=$?
    set -e
    record "$status" "$label"
}

# Memory errors and leaks of every kind fail the run. The one exception is
# the program that talks to Docker: runs_close lets the engine thread wind
# down in the background, and a program that exits right after it can
# still have that thread's stack and TLS at exit, which memcheck reports as
# "possibly lost" although nothing leaked; for it, possibly lost blocks
# are not counted (definite and indirect leaks still are).
valgrind_cmd=(valgrind --quiet --error-exitcode=1 --leak-check=full
    --errors-for-leak-kinds=all --show-leak-kinds=all --track-origins=yes)
valgrind_engine_cmd=(valgrind --quiet --error-exitcode=1 --leak-check=full
    --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-origins=yes)

for program in supersede bad_input threads docker_kill example; do
    run "$program (shared)" "$work/shared/$program"
    run "$program (static)" "$work/static/$program"
    if [ "$program" = docker_kill ]; then
        run "$program (valgrind)" "${valgrind_engine_cmd[@]}" "$work/shared/$program"
    else
        run "$program (valgrind)" "${valgrind_cmd[@]}" "$work/shared/$program"
    fi
done

# The C program and the Rust peer on one ledger file at the same time.
cross() {
    local label=$1
    shift
    local db=$work/cross-$RANDOM.db
    echo "-- $label"
    set +e
    "$root/target/debug/examples/cross_language_peer" "$db" &
    local peer=$!
    "$@" "$db"
    local c_status=$?
    wait "$peer"
    local peer_status=$?
    set -e
    record $((c_status | peer_status)) "$label"
}
cross "cross-language (shared)" "$work/shared/cross_language"
cross "cross-language (static)" "$work/static/cross_language"
cross "cross-language (valgrind)" "${valgrind_cmd[@]}" "$work/shared/cross_language"

echo "c programs: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    printf 'failed: %s\n' "${failures[@]}" >&2
    exit 1
fi
