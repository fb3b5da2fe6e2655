FROM debian:bookworm
RUN <<EOF
apt-get update
apt-get install -y curl
EOF
RUN <<-EOT bash
	set -eu
	echo "tabs are stripped from <<- bodies when they run"
	EOT
COPY <<config.yml <<"raw.txt" /etc/app/
listen: ${PORT}
config.yml
$NOT_EXPANDED
raw.txt
RUN python3 <<'PY' && echo done
print("quoted delimiter: no expansion")
PY
RUN 3<<EOF cat /dev/fd/3
file descriptor 3
EOF
RUN cat <<A <<B \
    | sort
b
A
a
B
RUN echo "<<NOT-A-HEREDOC"
RUN ["echo", "<<NOR-IN-EXEC-FORM"]
