#!/usr/bin/env bash
# Builds the container image the tests, benchmarks and demo start. No
# registry is reachable, so the image is a root filesystem holding Debian's
# static busybox, imported with `docker import`.
set -euo pipefail
image=${RUNLEDGER_TEST_IMAGE:-runledger-test:busybox}
if docker image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
if [ ! -x /bin/busybox ]; then
    echo "test-image: /bin/busybox is missing; install busybox-static" >&2
    exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin"
cp /bin/busybox "$root/bin/busybox"
for applet in sh sleep true kill cat echo; do
    ln -sf busybox "$root/bin/$applet"
done
tar -C "$root" -cf "$root.tar" .
docker import --change 'CMD ["/bin/sleep","1000"]' "$root.tar" "$image" >/dev/null
rm -f "$root.tar"
echo "test-image: built $image"
