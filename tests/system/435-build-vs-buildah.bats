#!/usr/bin/env bats
# strata build against a real builder: the same Dockerfile and context built by strata and by
# `buildah bud --layers` from the same base image; the config, the history and the files of
# the final root filesystem must agree, except for the differences docs/build.md lists.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    skip_if_no_runc
    command -v buildah >/dev/null || skip "buildah not installed (scripts/deps.sh installs it)"
    command -v unshare >/dev/null || skip "unshare not installed"
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX"
}

teardown() {
    cleanup_containers
}

# base_image : busybox with every applet, a user 'app', and files the RUN deletes, as
# 'busybox' in strata's store; saved to $TESTDIR/base.tar for buildah.
base_image() {
    local d="$TESTDIR/bb" a
    make_busybox_rootfs "$d"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$d/etc/passwd"
    printf 'root:x:0:\napp:x:1000:\n' >"$d/etc/group"
    cp "$d/etc/group" "$d/etc/group.bak"
    mkdir -p "$d/opt/tree/sub" && echo a >"$d/opt/tree/a" && echo b >"$d/opt/tree/sub/b"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$TESTDIR/bb.tar" .
    run_strata import "$TESTDIR/bb.tar" busybox
    "$STRATA" save busybox >"$TESTDIR/base.tar"
}

write_ctx() {
    mkdir -p "$CTX/files/sub"
    echo hello >"$CTX/hello.txt"
    ln -s hello.txt "$CTX/link.txt"
    echo one >"$CTX/files/one"
    ln "$CTX/files/one" "$CTX/files/one.hard"
    echo two >"$CTX/files/sub/two"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
ARG VERSION=1.0
ENV APP_HOME=/app GREETING="hi there" VERSION_ENV=$VERSION
LABEL org.example.version=$VERSION maintainer=me
EXPOSE 8080 53/udp
WORKDIR $APP_HOME
COPY --chown=app:app --chmod=640 files/ ./files/
COPY hello.txt link.txt ./
RUN rm /etc/group.bak && rm -rf /opt/tree && mkdir -p /opt/tree/new && echo n >/opt/tree/new/f && ln /app/hello.txt /app/hard.txt && ln -s /app/hello.txt /app/sym.txt && echo $VERSION >/app/version
USER app
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD ["true"]
ENTRYPOINT ["sh", "-c"]
CMD ["cat /app/version"]
EOF2
}

# A listing of the tree at the current dir without mtimes: path, type, mode, owner, and for
# non-directories size, link count and link target. The root itself is left out (buildah's
# mount point is 0555).
LISTING='find . -mindepth 1 -printf "%p %y %m %U %G %s %n %l\n" | awk "\$2 == \"d\" { \$6 = \"-\"; \$7 = \"-\" } 1" | sort'

# buildah_build : builds $CTX with buildah from base.tar into $TESTDIR/bh; writes the image's
# config ($TESTDIR/bh/config.json: the Docker form, with history and rootfs) and the listing
# of its root filesystem ($TESTDIR/bh/files). buildah runs in a private mount namespace with
# its storage, config and temp dirs below $TESTDIR, /var/lib/containers hidden (its blob info
# cache), runc as the runtime and no default ulimits (no CAP_SYS_RESOURCE here).
buildah_build() {
    local bh="$TESTDIR/bh"
    mkdir -p "$bh/tmp" "$bh/varlib"
    printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >"$bh/containers.conf"
    printf 'unqualified-search-registries = []\n' >"$bh/registries.conf"
    printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n' \
        "$bh" "$bh" >"$bh/storage.conf"
    echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$bh/policy.json"
    cat >"$bh/run.sh" <<EOF2
set -euo pipefail
mount --bind "$bh/varlib" /var/lib/containers 2>/dev/null || true
export CONTAINERS_CONF="$bh/containers.conf" CONTAINERS_REGISTRIES_CONF="$bh/registries.conf"
export CONTAINERS_STORAGE_CONF="$bh/storage.conf" TMPDIR="$bh/tmp"
buildah pull -q --signature-policy "$bh/policy.json" "docker-archive:$TESTDIR/base.tar" >/dev/null
buildah bud -q --layers --format docker --network none --pull-never \
    --signature-policy "$bh/policy.json" -t app "$CTX"
buildah inspect --type image app | jq .Docker >"$bh/config.json"
c=\$(buildah from --pull-never app)
m=\$(buildah mount "\$c")
(cd "\$m" && $LISTING) >"$bh/files"
buildah umount "\$c" >/dev/null
buildah rm "\$c" >/dev/null
EOF2
    unshare -m bash "$bh/run.sh"
}

# strata_build : the same with strata, into $TESTDIR/st (config.json, files).
strata_build() {
    local st="$TESTDIR/st"
    mkdir -p "$st/save" "$st/mnt"
    run_strata build -q --network none -t app "$CTX"
    "$STRATA" save app | tar -C "$st/save" -xf -
    cp "$st/save/$(jq -r '.[0].Config' "$st/save/manifest.json")" "$st/config.json"
    local lower
    lower=$("$STRATA" inspect --format '{{.GraphDriver.Data.UpperDir}}:{{.GraphDriver.Data.LowerDir}}' app)
    unshare -m bash -c "mount -t overlay overlay -o 'ro,lowerdir=$lower' '$st/mnt' && cd '$st/mnt' && $LISTING" >"$st/files"
}

# config_fields FILE : the compared config fields as sorted JSON (buildah's own label out).
config_fields() {
    jq -S '.config | {Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes,
        Labels: ((.Labels // {}) | del(."io.buildah.version")), StopSignal, Healthcheck}' "$1"
}

# history_of FILE : one line per history entry after the base image's: the instruction word
# (config instructions and COPY: their texts differ by design, see docs/build.md), RUN with its
# command, then the empty_layer flag. buildah's ARG entries (BuildKit writes none) left out.
history_of() {
    jq -r '.history[1:][] | "\(.created_by // "")\t\(.empty_layer // false)"' "$1" |
        sed -E -e 's|^/bin/sh -c #\(nop\) ([A-Z]+) [^\t]*|\1|' \
            -e 's/^RUN (.*) # buildkit\t/RUN \1\t/' \
            -e 's/^(\|[0-9]+ [^\t]*|\/bin\/sh -c [^\t]*)\t/RUN \1\t/' \
            -e 's/^(ENV|LABEL|EXPOSE|WORKDIR|COPY|ADD|USER|VOLUME|STOPSIGNAL|HEALTHCHECK|ENTRYPOINT|CMD) [^\t]*/\1/' |
        grep -v '^ARG'
}

@test "build vs buildah bud: config, history and files agree" {
    base_image
    write_ctx
    buildah_build
    strata_build
    # the config
    run config_fields "$TESTDIR/bh/config.json"
    local want=$output
    run config_fields "$TESTDIR/st/config.json"
    [ "$output" = "$want" ]
    [[ "$output" == *'"StopSignal": "SIGTERM"'* ]] && [[ "$output" == *'"Interval": 30000000000'* ]]
    # the history: the same instructions, layers where buildah has them, the same RUN text
    run history_of "$TESTDIR/bh/config.json"
    want=$output
    run history_of "$TESTDIR/st/config.json"
    [ "$output" = "$want" ]
    [ "$(grep -c . <<<"$output")" = 13 ]
    [[ "$output" == *$'RUN |1 VERSION=1.0 /bin/sh -c rm /etc/group.bak'*$'\tfalse'* ]]
    # as many layers
    [ "$(jq '.rootfs.diff_ids | length' "$TESTDIR/st/config.json")" = \
        "$(jq '.rootfs.diff_ids | length' "$TESTDIR/bh/config.json")" ]
    # the files, but for buildah's RUN leftovers (mount points of its runtime) and the two
    # known COPY differences (docs/build.md): /app, which WORKDIR made (root's, as BuildKit;
    # buildah creates it at COPY --chown time, owned by app), and ./files/, whose mode is
    # --chmod's for strata (BuildKit applies it to directories too) and 0755 for buildah
    grep -vE '^\./(dev|proc|sys|run|etc/hostname) ' "$TESTDIR/bh/files" |
        sed -e 's|^\./app d 755 1000 1000|./app d 755 0 0|' \
            -e 's|^\./app/files d 755 1000 1000|./app/files d 640 1000 1000|' >"$TESTDIR/bh/files.norm"
    diff -u "$TESTDIR/bh/files.norm" "$TESTDIR/st/files"
    # what the comparison covers is in both: whiteouts, opaque dirs, links, owners, modes
    grep -q '^\./app/hard\.txt f 644 0 0 6 2 $' "$TESTDIR/st/files"
    grep -q '^\./app/files/one\.hard f 640 1000 1000 4 2 $' "$TESTDIR/st/files"
    grep -q '^\./app/sym\.txt l 777 0 0 14 1 /app/hello\.txt$' "$TESTDIR/st/files"
    grep -q '^\./app/link\.txt f 644 0 0 6 1 $' "$TESTDIR/st/files"
    run -1 grep -qE '^\./(etc/group\.bak|opt/tree/a|opt/tree/sub) ' "$TESTDIR/st/files"
    grep -q '^\./opt/tree/new/f f 644 0 0 2 1 $' "$TESTDIR/st/files"
    # strata's RUN layer has none of the runtime's stubs
    run -1 grep -qE '^\./(dev|proc|sys|run|etc/hostname) ' "$TESTDIR/st/files"
}
