FROM alpine:3.19
RUN ["/bin/sh", "-c", "echo exec form"]
RUN echo shell form && echo "with quotes"
CMD ["/usr/bin/app", "--config", "/etc/app.yml"]
ENTRYPOINT ["docker-entrypoint.sh"]
ENTRYPOINT exec /usr/bin/app
CMD [ ]
CMD
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
COPY ["src dir/", "/opt/src dir/"]
ADD ["https://example.com/archive.tar.gz", "/tmp/"]
VOLUME ["/var/lib/data"]
VOLUME /var/log /var/cache
RUN [ -f /etc/alpine-release ] && echo alpine
