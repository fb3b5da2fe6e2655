# syntax=docker/dockerfile:1.4
FROM ubuntu:24.04

ARG DEBIAN_FRONTEND=noninteractive
RUN <<EOT bash
  set -euo pipefail
  apt-get update
  apt-get install -y --no-install-recommends nginx supervisor
  rm -rf /var/lib/apt/lists/*
EOT

COPY <<-"EOF" /etc/supervisor/conf.d/app.conf
	[program:nginx]
	command=/usr/sbin/nginx -g "daemon off;"
	autorestart=true
	EOF

COPY --chmod=0755 <<EOF /usr/local/bin/healthcheck
#!/bin/sh
curl -fsS "http://localhost:\${PORT:-80}/" >/dev/null
EOF

RUN <<EOF
mkdir -p /var/www/app
echo "built on $(date -u +%Y-%m-%d)" > /var/www/app/BUILD
EOF

RUN python3 - <<'PYTHON'
import json, pathlib
pathlib.Path("/etc/app.json").write_text(json.dumps({"debug": False}))
PYTHON

HEALTHCHECK --interval=10s CMD ["/usr/local/bin/healthcheck"]
EXPOSE 80
CMD ["/usr/bin/supervisord", "-n"]
