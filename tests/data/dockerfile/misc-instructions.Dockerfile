FROM ubuntu:22.04
MAINTAINER Jane Doe <jane@example.com>
USER www-data:www-data
WORKDIR /var/www/html
WORKDIR relative dir with spaces
STOPSIGNAL SIGQUIT
EXPOSE 80 443/tcp 53/udp 8000-8010/TCP 9090:9090 ${EXTRA_PORT}
VOLUME ["/data", "/logs"]
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
CMD apache2-foreground
