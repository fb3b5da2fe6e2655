FROM alpine
ENV PATH=/opt/bin:$PATH LANG=C.UTF-8
ENV GREETING="hello world" QUOTED='single "double" inside' ESCAPED=a\ b
ENV LEGACY_KEY legacy value, with spaces
ENV MULTI=1 \
    LINE="two \
          three"
LABEL org.opencontainers.image.source="https://example.com/repo" \
      org.opencontainers.image.version=1.0.0 \
      "quoted.key"="value"
LABEL description This is the legacy form
ENV EMPTY= NEXT=x
