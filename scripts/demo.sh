#!/bin/bash
# The main job, end to end: make a busybox rootfs tarball, import it as an image, tag it, list
# it, show its history and inspect it; build examples/hello on it, run it and show its history.
# Uses a demo store under build/ unless STRATA_ROOT is set.
set -euo pipefail
STRATA=${1:-build/strata}
export STRATA_ROOT=${STRATA_ROOT:-$(pwd)/build/demo-root}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/root" \
    "$work/rootfs/usr/local/bin" "$work/rootfs/var/cache"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -sf busybox "$work/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$work/rootfs/etc/passwd"
echo 'root:x:0:' >"$work/rootfs/etc/group"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs" \
    -czf "$work/busybox.tar.gz" .
echo "demo store: $STRATA_ROOT"
step "$STRATA" import -c 'CMD ["/bin/sh"]' -m 'busybox from the demo' \
    "$work/busybox.tar.gz" busybox:demo
step "$STRATA" tag busybox:demo localhost:5000/demo/busybox:1.0
step "$STRATA" images
step "$STRATA" history busybox:demo
step "$STRATA" inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} cmd={{json .Config.Cmd}} layers={{len .RootFS.Layers}}' busybox:demo
step "$STRATA" save -o "$work/busybox-save.tar" busybox:demo
step tar -tf "$work/busybox-save.tar"
step "$STRATA" build -t hello:demo examples/hello
step "$STRATA" run --rm hello:demo
step "$STRATA" history hello:demo
step "$STRATA" system df
step "$STRATA" system check
