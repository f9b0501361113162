# Sourced by the test command: makes sure a Docker engine answers before
# the tests that need one start.
#
# Where `docker info` already works (DOCKER_HOST, or the default socket),
# nothing happens. Otherwise a private engine is started for the length of
# the test run: dockerd, containerd and runc from this machine, or, where
# they are not installed, from Debian's packages unpacked under
# .ci/cache/docker without installing them. It gets its own socket, data and
# state directories and containerd namespaces (should it share a system
# containerd), no bridge network and no iptables rules (every test container
# runs with --network none), and DOCKER_HOST points at it.
# stop_private_docker_engine stops it and removes its files.

private_docker_dir=""

# Puts dockerd, containerd, runc and the docker client on PATH, unpacking
# Debian's packages where this machine lacks them.
docker_engine_binaries() {
    if command -v dockerd >/dev/null && command -v containerd >/dev/null \
        && command -v runc >/dev/null && command -v docker >/dev/null; then
        return 0
    fi
    local cache=$PWD/.ci/cache/docker
    if [ ! -x "$cache/root/usr/sbin/dockerd" ]; then
        echo "docker-engine: unpacking Debian's docker.io, containerd and runc into $cache"
        rm -rf "$cache"
        mkdir -p "$cache/debs" "$cache/root"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        (cd "$cache/debs" && apt-get download -qq docker.io containerd runc)
        for deb in "$cache"/debs/*.deb; do
            dpkg -x "$deb" "$cache/root"
        done
    fi
    export PATH=$cache/root/usr/sbin:$cache/root/usr/bin:$PATH
}

ensure_docker_engine() {
    if docker info >/dev/null 2>&1; then
        return 0
    fi
    echo "docker-engine: no engine answers at ${DOCKER_HOST:-the default socket};" \
        "starting a private one"
    if [ "$(id -u)" != 0 ]; then
        echo "docker-engine: starting a private engine needs root; start Docker" \
            "or run this as root" >&2
        return 1
    fi
    docker_engine_binaries
    # A short path: a Unix socket's path must stay under 108 bytes.
    private_docker_dir=$(mktemp -d /tmp/runledger-dockerd.XXXXXX)
    local dir=$private_docker_dir
    # Its own empty configuration: the machine's daemon.json may name the
    # system engine's data root and storage driver.
    echo '{}' >"$dir/daemon.json"
    dockerd --config-file "$dir/daemon.json" --host "unix://$dir/docker.sock" \
        --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
        --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
        --storage-driver=vfs --cgroup-parent=runledger-tests \
        --containerd-namespace=runledger-tests \
        --containerd-plugins-namespace=runledger-tests-plugins \
        >"$dir/dockerd.log" 2>&1 &
    echo $! >"$dir/started.pid"
    export DOCKER_HOST=unix://$dir/docker.sock
    local waited=0
    until docker info >/dev/null 2>&1; do
        if [ "$waited" -ge 60 ] || ! kill -0 "$(cat "$dir/started.pid")" 2>/dev/null; then
            echo "docker-engine: the private engine did not come up; its log:" >&2
            cat "$dir/dockerd.log" >&2
            stop_private_docker_engine
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "docker-engine: private engine ready at $DOCKER_HOST after ${waited}s"
}

stop_private_docker_engine() {
    [ -n "$private_docker_dir" ] || return 0
    local dir=$private_docker_dir
    private_docker_dir=""
    local pid
    pid=$(cat "$dir/started.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    # The engine may leave mounts below its directories if it died hard.
    grep -o " $dir[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$dir"
}
