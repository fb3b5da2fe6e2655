FROM nginx:1.25
HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --start-interval=2s --retries=3 \
    CMD curl -fsS http://localhost/ || exit 1
HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]
HEALTHCHECK --interval=0s CMD wget -q --spider http://localhost/
HEALTHCHECK NONE
