#!/usr/bin/env bats
# strata pull, push, login, logout against a real registry (Debian's docker-registry 2.8).

load helpers

teardown() {
    stop_registry
}

FIX="$BATS_TEST_DIRNAME/fixtures"

# import_bb REF : busybox as a one-layer image; ID=its image ID.
import_bb() {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import -c 'CMD ["/bin/sh"]' "$TESTDIR/bb.tar" "$1"
    ID=$output
}

# make_layers : three layer tars: busybox, a small file, 3 MB of random bytes.
make_layers() {
    make_busybox_tar "$TESTDIR/l1.tar"
    mkdir -p "$TESTDIR/l2/etc" "$TESTDIR/l3/data"
    echo hello >"$TESTDIR/l2/etc/hello"
    head -c 3000000 /dev/urandom >"$TESTDIR/l3/data/blob"
    tar --mtime=@0 -C "$TESTDIR/l2" -cf "$TESTDIR/l2.tar" .
    tar --mtime=@0 -C "$TESTDIR/l3" -cf "$TESTDIR/l3.tar" .
}

# image_tar OUT REF [--zstd|--platforms P] LAYERS... : an OCI archive from make-oci-image.py.
image_tar() {
    local out=$1 ref=$2
    shift 2
    local opts=()
    while [[ "${1:-}" == --* ]]; do opts+=("$1"); [ "$1" = --platforms ] && { opts+=("$2"); shift; }; shift; done
    python3 "$FIX/make-oci-image.py" "${opts[@]}" "$out" "$ref" "$@"
}

@test "push, then pull into an empty store: same image ID, a runnable layer tree" {
    start_registry
    import_bb "$REGISTRY/strata/bb:1"
    run_strata push "$REGISTRY/strata/bb:1"
    expect_output_match "The push refers to repository \[$REGISTRY/strata/bb\]"
    expect_output_match '[0-9a-f]{12}: Pushed'
    expect_output_match "1: digest: sha256:[0-9a-f]{64} size: [0-9]+"
    digest=$(echo "$output" | sed -n 's/^1: digest: \(sha256:[0-9a-f]*\) .*/\1/p')

    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull "$REGISTRY/strata/bb:1"
    expect_output_match "1: Pulling from strata/bb"
    expect_output_match '[0-9a-f]{12}: Pull complete'
    expect_output_match "Digest: $digest"
    expect_output_match "Status: Downloaded newer image for $REGISTRY/strata/bb:1"
    [ "${lines[-1]}" = "$REGISTRY/strata/bb:1" ]
    run_strata images -q --no-trunc
    expect_output "$ID"
    run_strata inspect --format '{{json .RepoDigests}}' "$REGISTRY/strata/bb:1"
    expect_output "[\"$REGISTRY/strata/bb@$digest\"]"
    run chroot "$STRATA_ROOT"/layers/*/diff /bin/sh -c 'echo hi from the layer'
    [ "$output" = "hi from the layer" ]
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "pull by digest, -q, and a digest that is not there" {
    start_registry
    import_bb "$REGISTRY/strata/bb:1"
    run_strata push -q "$REGISTRY/strata/bb:1"
    expect_output "$REGISTRY/strata/bb:1"
    run_strata inspect --format '{{index .RepoDigests 0}}' "$REGISTRY/strata/bb:1"
    byd=$output
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$byd"
    expect_output "$byd"
    run_strata images --format '{{.Tag}} {{.ID}}'
    expect_output "<none> ${ID:7:12}"
    run_strata inspect --format '{{.Id}} {{json .RepoTags}} {{json .RepoDigests}}' "$byd"
    expect_output "$ID [] [\"$byd\"]"
    run_strata 1 pull "$REGISTRY/strata/bb@sha256:$(printf '%064d' 0)"
    expect_output_match "strata: pull '.*': manifest unknown: manifest unknown"
    run_strata 1 pull "$REGISTRY/strata/bb:nope"
    expect_output_match "manifest unknown"
    run_strata 1 pull "$REGISTRY/strata/none:1"
    expect_output_match "manifest unknown|name unknown"
}

@test "a second pull downloads only the manifest; layers pull in parallel" {
    start_registry
    make_layers
    image_tar "$TESTDIR/img.tar" "$REGISTRY/app/three:1" "$TESTDIR/l1.tar" "$TESTDIR/l2.tar" "$TESTDIR/l3.tar"
    run_strata load -i "$TESTDIR/img.tar"
    run_strata push "$REGISTRY/app/three:1"
    [ "$(echo "$output" | grep -c ': Pushed')" = 3 ]
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull --max-concurrent-downloads 3 "$REGISTRY/app/three:1"
    [ "$(echo "$output" | grep -c ': Pull complete')" = 3 ]
    blobs=$(registry_requests 'GET /v2/app/three/blobs/')
    [ "$blobs" = 4 ] # config and three layers
    run_strata pull "$REGISTRY/app/three:1"
    [ "$(echo "$output" | grep -c ': Already exists')" = 3 ]
    expect_output_match "Status: Image is up to date for $REGISTRY/app/three:1"
    [ "$(registry_requests 'GET /v2/app/three/blobs/')" = "$blobs" ]
    cmp "$TESTDIR/l3/data/blob" "$(echo "$STRATA_ROOT"/layers/*/diff/data/blob)"
    run_strata system check
    expect_output_match 'checked 5 blobs, 3 layers, 1 images: the store is clean'
}

@test "push uploads only what the registry lacks: mounts from a known repository, skips what exists" {
    start_registry
    make_layers
    image_tar "$TESTDIR/base.tar" "$REGISTRY/lib/base:1" "$TESTDIR/l1.tar"
    image_tar "$TESTDIR/app.tar" "$REGISTRY/team/app:1" "$TESTDIR/l1.tar" "$TESTDIR/l2.tar" "$TESTDIR/l3.tar"
    run_strata load -i "$TESTDIR/base.tar"
    run_strata load -i "$TESTDIR/app.tar"
    run_strata push "$REGISTRY/lib/base:1"
    uploads=$(registry_requests 'PUT /v2/.*/blobs/uploads/')
    run_strata push "$REGISTRY/team/app:1"
    expect_output_match ': Mounted from lib/base'
    [ "$(echo "$output" | grep -c ': Pushed')" = 2 ]
    [ "$(registry_requests 'PUT /v2/.*/blobs/uploads/')" = $((uploads + 3)) ] # 2 layers + config
    [ "$(registry_requests 'POST /v2/team/app/blobs/uploads/\?mount=')" -ge 1 ]
    # again: nothing to upload
    run_strata push "$REGISTRY/team/app:1"
    [ "$(echo "$output" | grep -c ': Layer already exists')" = 3 ]
    # a store that never saw the base: HEAD finds the layer in the repository
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/app.tar"
    run_strata tag "$REGISTRY/team/app:1" "$REGISTRY/lib/base:2"
    run_strata push "$REGISTRY/lib/base:2"
    [ "$(echo "$output" | grep -c ': Layer already exists')" = 1 ]
    [ "$(echo "$output" | grep -c ': Pushed')" = 2 ]
}

@test "a broken connection resumes with Range; kill -9 mid-pull leaves a consistent store" {
    start_registry
    make_layers
    head -c 4000000 /dev/urandom >"$TESTDIR/l3/data/blob"
    tar --mtime=@0 -C "$TESTDIR/l3" -cf "$TESTDIR/l3.tar" .
    image_tar "$TESTDIR/img.tar" "$REGISTRY/app/big:1" "$TESTDIR/l1.tar" "$TESTDIR/l3.tar"
    run_strata load -i "$TESTDIR/img.tar"
    run_strata images -q --no-trunc
    id=$output
    run_strata push -q "$REGISTRY/app/big:1"
    start_flaky_proxy
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull "$PROXY/app/big:1"
    grep -E 'GET /v2/app/big/blobs/sha256:[0-9a-f]+ bytes=[0-9]+-' "$PROXY_LOG"
    run_strata images -q --no-trunc
    expect_output "$id"
    run_strata system check
    expect_output_match 'the store is clean'
    export STRATA_ROOT="$TESTDIR/root3"
    "$STRATA" pull -q "$REGISTRY/app/big:1" >/dev/null 2>&1 &
    pid=$!
    sleep 0.$((RANDOM % 4))
    kill -9 $pid 2>/dev/null || true
    wait $pid || true
    run_strata system check
    expect_output_match 'the store is clean'
    run_strata pull -q "$REGISTRY/app/big:1"
    run_strata images -q --no-trunc
    expect_output "$id"
}

@test "a registry that refuses monolithic uploads gets chunks; 503s are retried" {
    start_registry
    make_layers
    head -c 17000000 /dev/urandom >"$TESTDIR/l3/data/blob" # two 16 MiB chunks
    tar --mtime=@0 -C "$TESTDIR/l3" -cf "$TESTDIR/l3.tar" .
    image_tar "$TESTDIR/img.tar" "$REGISTRY/app/chunked:1" "$TESTDIR/l1.tar" "$TESTDIR/l3.tar"
    run_strata load -i "$TESTDIR/img.tar"
    run_strata images -q --no-trunc
    id=$output
    start_flaky_proxy --no-monolithic --fail-first-manifest
    run_strata tag "$REGISTRY/app/chunked:1" "$PROXY/app/chunked:1"
    run_strata push "$PROXY/app/chunked:1"
    expect_output_match "1: digest: sha256:"
    grep -q '^PATCH /v2/app/chunked/blobs/uploads/[^ ]* - 0-16777215$' "$PROXY_LOG"
    grep -q '^PATCH /v2/app/chunked/blobs/uploads/[^ ]* - 16777216-' "$PROXY_LOG"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$PROXY/app/chunked:1"
    [ "$(grep -c '^GET /v2/app/chunked/manifests/1 ' "$PROXY_LOG")" = 2 ] # a 503, then the retry
    run_strata images -q --no-trunc
    expect_output "$id"
}

@test "basic auth: refused anonymously, wrong password, login, push and pull, secrets never shown, logout" {
    start_registry --htpasswd alice:s3cret-pw
    import_bb "$REGISTRY/private/bb:1"
    run_strata 1 push "$REGISTRY/private/bb:1"
    expect_output_match "unauthorized: authentication required"
    run bash -c "echo wrong | '$STRATA' login -u alice --password-stdin $REGISTRY"
    [ "$status" = 1 ]
    [[ "$output" == *"unauthorized: incorrect username or password"* ]]
    [ ! -e "$DOCKER_CONFIG/config.json" ]
    run bash -c "echo s3cret-pw | '$STRATA' login -u alice --password-stdin $REGISTRY"
    [ "$status" = 0 ]
    [ "$output" = "Login Succeeded" ]
    [ "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600 ]
    [ "$(stat -c %a "$DOCKER_CONFIG")" = 700 ]
    [ "$(jq -r ".auths[\"$REGISTRY\"].auth" "$DOCKER_CONFIG/config.json" | base64 -d)" = alice:s3cret-pw ]
    run_strata push "$REGISTRY/private/bb:1"
    export STRATA_ROOT="$TESTDIR/root2"
    STRATA_TRACE=registry "$STRATA" pull "$REGISTRY/private/bb:1" >"$TESTDIR/out" 2>"$TESTDIR/trace"
    grep -q 'Authorization: <redacted>' "$TESTDIR/trace"
    ! grep -q -e s3cret -e "$(printf alice:s3cret-pw | base64)" "$TESTDIR/trace" "$TESTDIR/out" || false
    run_strata images -q --no-trunc
    expect_output "$ID"
    run_strata logout "$REGISTRY"
    expect_output "Removing login credentials for $REGISTRY"
    run_strata logout "$REGISTRY"
    expect_output "Not logged in to $REGISTRY"
    export STRATA_ROOT="$TESTDIR/root3"
    run_strata 1 pull "$REGISTRY/private/bb:1"
    expect_output_match "unauthorized"
}

@test "token auth: anonymous pulls of public repositories, login, push and pull, tokens cached per scope" {
    start_registry --token bob:tok-pw
    import_bb "$REGISTRY/bob/bb:1"
    run_strata 1 push "$REGISTRY/bob/bb:1"
    expect_output_match "unauthorized: authentication required"
    run bash -c "echo nope | '$STRATA' login -u bob --password-stdin $REGISTRY"
    [ "$status" = 1 ]
    [[ "$output" == *"incorrect username or password"* ]]
    run bash -c "echo tok-pw | '$STRATA' login -u bob --password-stdin $REGISTRY"
    [ "$output" = "Login Succeeded" ]
    : >"$TOKEN_LOG"
    run_strata push "$REGISTRY/bob/bb:1"
    run_strata tag "$REGISTRY/bob/bb:1" "$REGISTRY/public/bb:1"
    run_strata push "$REGISTRY/public/bb:1"
    expect_output_match 'Mounted from bob/bb'
    # one token per scope and process
    [ "$(grep -c 'scope=repository:bob/bb:pull,push$' "$TOKEN_LOG")" = 1 ]
    [ "$(grep -c 'scope=repository:public/bb:pull,push repository:bob/bb:pull$' "$TOKEN_LOG")" = 1 ]
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$REGISTRY/bob/bb:1"
    run_strata logout "$REGISTRY"
    : >"$TOKEN_LOG"
    run_strata pull -q "$REGISTRY/public/bb:1" # anonymous token
    grep -q '^user=- scope=repository:public/bb:pull$' "$TOKEN_LOG"
    run_strata 1 pull "$REGISTRY/bob/bb:1"
    expect_output_match "unauthorized|denied"
}

@test "token services that answer access_token; identity tokens (OAuth2 refresh)" {
    TOKEN_ARGS=--access-token-only start_registry --token bob:tok-pw
    import_bb "$REGISTRY/bob/bb:1"
    run bash -c "echo tok-pw | '$STRATA' login -u bob --password-stdin $REGISTRY"
    [ "$output" = "Login Succeeded" ]
    run_strata push -q "$REGISTRY/bob/bb:1"
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"%s":{"auth":"","identitytoken":"refresh-bob"}}}' "$REGISTRY" >"$DOCKER_CONFIG/config.json"
    : >"$TOKEN_LOG"
    run_strata push -q "$REGISTRY/bob/bb:1"
    grep -q '^user=bob(refresh) scope=repository:bob/bb:pull,push$' "$TOKEN_LOG"
    printf '{"auths":{"%s":{"identitytoken":"refresh-mallory"}}}' "$REGISTRY" >"$DOCKER_CONFIG/config.json"
    run_strata 1 push "$REGISTRY/bob/bb:1"
    expect_output_match "unauthorized: incorrect username or password"
    ! grep -q refresh-mallory <<<"$output" || false
}

@test "a blob corrupted on the registry's disk is refused, nothing is tagged" {
    start_registry
    make_layers
    image_tar "$TESTDIR/img.tar" "$REGISTRY/app/c:1" "$TESTDIR/l1.tar" "$TESTDIR/l3.tar"
    run_strata load -i "$TESTDIR/img.tar"
    run_strata push -q "$REGISTRY/app/c:1"
    big=$(python3 -c '
import json,sys,tarfile
t=tarfile.open(sys.argv[1]); i=json.load(t.extractfile("index.json"))
m=json.load(t.extractfile("blobs/sha256/"+i["manifests"][0]["digest"][7:]))
print(m["layers"][1]["digest"][7:])' "$TESTDIR/img.tar")
    f="$REGISTRY_DATA/docker/registry/v2/blobs/sha256/${big:0:2}/$big/data"
    [ -f "$f" ]
    printf 'XXXXXXXXXXXXXXXX' | dd of="$f" bs=1 seek=1500000 conv=notrunc 2>/dev/null
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata 1 pull "$REGISTRY/app/c:1"
    expect_output_match "strata: pull '$REGISTRY/app/c:1': layer sha256:$big: .*hashes to sha256:[0-9a-f]+, expected sha256:$big"
    run_strata images -q
    expect_output ""
    run_strata system check
    expect_output_match 'the store is clean'
    [ ! -e "$STRATA_ROOT/blobs/sha256/$big" ]
}

@test "TLS: a self-signed CA in certs.d, a clear error without it, --tls-verify=false, registries.conf" {
    start_registry --tls
    import_bb "$REGISTRY/tls/bb:1"
    run_strata 1 push "$REGISTRY/tls/bb:1"
    expect_output_match "the TLS certificate of '$REGISTRY' is not trusted .*put its CA certificate in $STRATA_CONFIG_DIR/certs.d/$REGISTRY/ca.crt"
    mkdir -p "$STRATA_CONFIG_DIR/certs.d/$REGISTRY"
    cp "$REGISTRY_CA" "$STRATA_CONFIG_DIR/certs.d/$REGISTRY/ca.crt"
    run_strata push -q "$REGISTRY/tls/bb:1"
    rm -r "$STRATA_CONFIG_DIR/certs.d"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata 1 pull "$REGISTRY/tls/bb:1"
    run_strata pull -q --tls-verify=false "$REGISTRY/tls/bb:1"
    run_strata rmi "$REGISTRY/tls/bb:1"
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REGISTRY" >"$STRATA_CONFIG_DIR/registries.conf"
    run_strata pull -q "$REGISTRY/tls/bb:1"
    run_strata images -q --no-trunc
    expect_output "$ID"
}

@test "plain http only where allowed: loopback, not with --tls-verify=true" {
    start_registry
    import_bb "$REGISTRY/x/bb:1"
    run_strata 1 push --tls-verify=true "$REGISTRY/x/bb:1"
    expect_output_match "does not speak TLS"
    run_strata 1 pull 127.0.0.1:1/x/bb:1
    expect_output_match "strata: pull '127.0.0.1:1/x/bb:1': GET https://127.0.0.1:1/v2/: .*connect"
    run_strata 125 pull --platform linux/ x
    run_strata 125 pull
}

@test "a manifest list: linux/amd64 by default, --platform picks another, a missing one is an error" {
    skip_if_missing skopeo
    start_registry
    make_layers
    image_tar "$TESTDIR/multi.tar" "$REGISTRY/multi/img:1" --platforms linux/arm64/v8,linux/amd64 "$TESTDIR/l1.tar" "$TESTDIR/l2.tar"
    skopeo copy -q --all --dest-tls-verify=false "oci-archive:$TESTDIR/multi.tar" "docker://$REGISTRY/multi/img:1"
    run_strata pull "$REGISTRY/multi/img:1"
    index=$(echo "$output" | sed -n 's/^Digest: //p')
    run_strata inspect --format '{{.Architecture}} {{index .RepoDigests 0}}' "$REGISTRY/multi/img:1"
    expect_output "amd64 $REGISTRY/multi/img@$index"
    run_strata pull --platform linux/arm64 "$REGISTRY/multi/img:1"
    run_strata inspect --format '{{.Architecture}}' "$REGISTRY/multi/img:1"
    expect_output "arm64"
    run_strata 1 pull --platform linux/s390x "$REGISTRY/multi/img:1"
    expect_output_match "no matching manifest for linux/s390x"
    run_strata manifest inspect "$REGISTRY/multi/img:1"
    [ "$(echo "$output" | jq -r '.manifests | length')" = 2 ]
}

@test "zstd layers round-trip; pull -a and push --all-tags" {
    start_registry
    make_layers
    image_tar "$TESTDIR/z.tar" "$REGISTRY/z/img:1" --zstd "$TESTDIR/l1.tar" "$TESTDIR/l2.tar"
    run_strata load -i "$TESTDIR/z.tar"
    run_strata images -q --no-trunc
    id=$output
    run_strata tag "$REGISTRY/z/img:1" "$REGISTRY/z/img:2"
    run_strata 125 push -a "$REGISTRY/z/img:1"
    run_strata push --all-tags "$REGISTRY/z/img"
    expect_output_match "1: digest: sha256:"
    expect_output_match "2: digest: sha256:"
    run_strata manifest inspect "$REGISTRY/z/img:1"
    [ "$(echo "$output" | jq -r '.layers[0].mediaType')" = application/vnd.oci.image.layer.v1.tar+zstd ]
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -a "$REGISTRY/z/img"
    [ "${lines[-1]}" = "$REGISTRY/z/img" ]
    run_strata images --format '{{.Tag}} {{.ID}}'
    expect_output "1 ${id:7:12}
2 ${id:7:12}"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "interop: skopeo reads what strata pushed; strata pulls what skopeo pushed" {
    skip_if_missing skopeo
    start_registry
    import_bb "$REGISTRY/interop/bb:1"
    run_strata push -q "$REGISTRY/interop/bb:1"
    skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/interop/bb:1" "docker-archive:$TESTDIR/sk.tar:bb:sk"
    run_strata save -o "$TESTDIR/strata.tar" "$REGISTRY/interop/bb:1"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/sk.tar"
    run_strata images -q --no-trunc
    expect_output "$ID"
    skopeo copy -q --dest-tls-verify=false "oci-archive:$TESTDIR/strata.tar" "docker://$REGISTRY/interop/from-skopeo:1"
    export STRATA_ROOT="$TESTDIR/root3"
    run_strata pull -q "$REGISTRY/interop/from-skopeo:1"
    run_strata images -q --no-trunc
    expect_output "$ID"
    run chroot "$STRATA_ROOT"/layers/*/diff /bin/true
    [ "$status" = 0 ]
}
