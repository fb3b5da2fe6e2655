FROM debian:bookworm-slim

# comment lines inside a continuation are dropped
RUN apt-get update \
    # the toolchain
    && apt-get install -y \
        build-essential \
    # and a blank line, which Docker warns about

        curl \
    && rm -rf /var/lib/apt/lists/*
# trailing blanks after the backslash still continue the line
RUN echo one \   
    two
# an escaped backslash does not continue
RUN echo \\
RUN echo "indented"   \
	  continuation
ENV A=1 \
    B=2
RUN echo "the file ends in a continuation" \
