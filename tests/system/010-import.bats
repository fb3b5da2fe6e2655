#!/usr/bin/env bats
# strata import: rootfs tarballs (plain, gzip, zstd) become one-layer images.

load helpers

@test "import a plain tarball, tag it and find its files in the layer dir" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" busybox
    expect_output_match '^sha256:[0-9a-f]{64}$'
    id=$output
    run_strata images -q --no-trunc
    expect_output "$id"
    run_strata inspect --format '{{.RootFS.Layers}}' busybox
    diff_id=$(sha256sum "$TESTDIR/bb.tar" | cut -d' ' -f1)
    expect_output "[sha256:$diff_id]"
    # the layer dir is the extracted tree
    [ -x "$STRATA_ROOT/layers/$diff_id/diff/bin/busybox" ]
    cmp /bin/busybox "$STRATA_ROOT/layers/$diff_id/diff/bin/busybox"
    [ "$(readlink "$STRATA_ROOT/layers/$diff_id/diff/bin/sh")" = busybox ]
    # a short link points at it
    [ -d "$STRATA_ROOT/l/${diff_id:0:16}/" ]
}

@test "import gzip and zstd tarballs and from stdin gives the same diff ID" {
    make_busybox_tar "$TESTDIR/bb.tar"
    gzip -k "$TESTDIR/bb.tar"
    zstd -q "$TESTDIR/bb.tar" -o "$TESTDIR/bb.tar.zst"
    run_strata import "$TESTDIR/bb.tar.gz" a:gz
    run_strata import "$TESTDIR/bb.tar.zst" a:zst
    run "$STRATA" import - a:stdin < "$TESTDIR/bb.tar"
    [ "$status" -eq 0 ]
    run_strata inspect --format '{{index .RootFS.Layers 0}}' a:gz a:zst a:stdin
    want="sha256:$(sha256sum "$TESTDIR/bb.tar" | cut -d' ' -f1)"
    expect_output "$want
$want
$want"
    # one layer dir for all three
    [ "$(ls "$STRATA_ROOT/layers" | wc -l)" -eq 1 ]
}

@test "import with --change and -m sets config and history" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import -c 'CMD ["/bin/sh", "-c", "echo hi"]' -c 'ENV A=1 B="two words"' \
        --change 'WORKDIR /srv' -c 'EXPOSE 80 53/udp' -c 'USER nobody' \
        -c 'LABEL org.example=yes' -c 'ENTRYPOINT /bin/sh' -m 'my message' "$TESTDIR/bb.tar" x:1
    run_strata inspect --format '{{json .Config.Cmd}}|{{json .Config.Env}}|{{.Config.WorkingDir}}|{{.Config.User}}' x:1
    expect_output '["/bin/sh","-c","echo hi"]|["A=1","B=two words"]|/srv|nobody'
    run_strata inspect --format '{{json .Config.ExposedPorts}}|{{index .Config.Labels "org.example"}}|{{json .Config.Entrypoint}}' x:1
    expect_output '{"53/udp":{},"80/tcp":{}}|yes|["/bin/sh","-c","/bin/sh"]'
    run_strata history --format '{{.Comment}}' x:1
    expect_output 'my message'
}

@test "import with a bad --change fails and stores no image" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata 1 import -c 'FROB x' "$TESTDIR/bb.tar" x
    expect_output_match '^strata: .*FROB'
    run_strata images -q
    expect_output ""
}

@test "import of a missing file fails with a one-line error" {
    run_strata 1 import "$TESTDIR/nope.tar"
    expect_output_match "^strata: open '.*nope.tar': No such file or directory$"
}

@test "import of a traversal tarball is refused and leaves the store unchanged" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" base
    before=$(store_snapshot)
    python3 - "$TESTDIR/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"pwned\n"
    i = tarfile.TarInfo("../../escaped"); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
PY
    run_strata 1 import "$TESTDIR/evil.tar" evil
    expect_output_match "escapes"
    [ ! -e "$STRATA_ROOT/../escaped" ] && [ ! -e "$TESTDIR/escaped" ]
    [ "$(store_snapshot)" = "$before" ]
    run_strata system check
}

@test "import of a symlink escape is refused" {
    python3 - "$TESTDIR/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    l = tarfile.TarInfo("link"); l.type = tarfile.SYMTYPE; l.linkname = "/tmp"
    t.addfile(l)
    data = b"x"
    i = tarfile.TarInfo("link/strata-escape-test"); i.size = 1
    t.addfile(i, io.BytesIO(data))
PY
    rm -f /tmp/strata-escape-test
    run "$STRATA" import "$TESTDIR/evil.tar" evil
    # either refused, or written inside the layer: never through the link to /tmp
    [ ! -e /tmp/strata-escape-test ]
}

@test "import of a truncated or malformed tarball fails cleanly" {
    make_busybox_tar "$TESTDIR/bb.tar"
    head -c 300000 "$TESTDIR/bb.tar" > "$TESTDIR/trunc.tar"
    run_strata 1 import "$TESTDIR/trunc.tar" t
    expect_output_match '^strata: '
    [ "$(echo "$output" | wc -l)" -eq 1 ]
    gzip -c "$TESTDIR/bb.tar" | head -c 100000 > "$TESTDIR/trunc.tar.gz"
    run_strata 1 import "$TESTDIR/trunc.tar.gz" t
    expect_output_match '^strata: '
    head -c 5000 /dev/urandom > "$TESTDIR/garbage"
    run_strata 1 import "$TESTDIR/garbage" t
    run_strata images -q
    expect_output ""
    # nothing left in staging
    [ -z "$(ls -A "$STRATA_ROOT/tmp")" ]
    run_strata system check
}

@test "import with an invalid reference is a usage-level error" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata 1 import "$TESTDIR/bb.tar" 'Upper/Case'
    expect_output_match 'invalid reference format'
}
