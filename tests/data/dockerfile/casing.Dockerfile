from alpine as builder
run apk add --no-cache build-base
Copy . /src
FROM alpine AS Final
COPY --from=builder /src /app
Cmd ["/app/run"]
