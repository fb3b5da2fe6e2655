FROM --platform=$BUILDPLATFORM golang:1.22 AS build
COPY --link --chown=1000:1000 --chmod=0755 go.mod go.sum /src/
COPY --from=build --parents --exclude=*.md --exclude="docs/**" ./pkg ./cmd /src/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d \
    https://example.com/tool.tar.gz /opt/
ADD --keep-git-dir=true https://github.com/example/repo.git#v1.2.3 /src/repo
ADD --unpack=false --link=false archive.tar.gz /archives/
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,source=.,target=/src \
    --mount=type=secret,id=netrc,target=/root/.netrc \
    --network=none --security=sandbox \
    go build ./...
RUN --device=/dev/fuse ls
COPY --chown="app user" -- --dashed-name /weird/
