FROM alpine
RUN echo crlf \
    line endings
COPY <<EOF /x
body
EOF
CMD ["sh"]
