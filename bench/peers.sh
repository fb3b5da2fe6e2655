#!/bin/bash
# Installs (Debian packages) and starts, on loopback only, the peers strata is compared with:
# a Docker 20.10 engine (classic builder, --bridge=none --iptables=false, its own socket and
# data root under $BENCH_DIR/peers), Podman/Buildah/skopeo/umoci with runc. Registries are
# started per workload by run.sh. Idempotent; run as root. Prints nothing on success.
# Quirks of the benchmark machine: no CAP_SYS_RESOURCE (so no default ulimits for podman/buildah),
# hybrid cgroups (crun refuses them: runc is used).
set -euo pipefail
BENCH_DIR=${BENCH_DIR:-/var/tmp/strata-bench}
P=$BENCH_DIR/peers
mkdir -p "$P"
need=""
for b in dockerd docker podman buildah skopeo umoci runc docker-registry busybox hyperfine /usr/bin/time python3; do
    command -v "$b" >/dev/null 2>&1 || need=1
done
if [ -n "$need" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io podman buildah skopeo umoci runc \
        docker-registry busybox-static hyperfine time python3 >/dev/null
fi
# podman/buildah read these through CONTAINERS_CONF / CONTAINERS_REGISTRIES_CONF (run.sh
# exports them): the machine's /etc/containers is left alone.
cat >"$P/containers.conf" <<'CONF'
[containers]
default_ulimits = []
netns = "none"
[engine]
runtime = "runc"
CONF
cat >"$P/registries.conf" <<'CONF'
unqualified-search-registries = []
[[registry]]
location = "127.0.0.1"
insecure = true
CONF
export DOCKER_HOST=unix://$P/docker.sock
if ! docker info >/dev/null 2>&1; then
    (setsid dockerd --iptables=false --ip6tables=false --bridge=none \
        --data-root "$P/docker-root" --exec-root "$P/docker-exec" \
        -H "$DOCKER_HOST" --pidfile "$P/dockerd.pid" >"$P/dockerd.log" 2>&1 &)
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { echo "peers.sh: dockerd did not start, see $P/dockerd.log" >&2; exit 1; }
fi
