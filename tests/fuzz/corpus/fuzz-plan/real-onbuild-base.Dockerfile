# A base image for Python apps: a child image only needs "FROM example/python-onbuild".
FROM python:3.12-slim

RUN mkdir -p /usr/src/app
WORKDIR /usr/src/app

ONBUILD ARG PIP_INDEX_URL=https://pypi.org/simple
ONBUILD COPY requirements.txt /usr/src/app/
ONBUILD RUN pip install --no-cache-dir -r requirements.txt \
            --index-url "$PIP_INDEX_URL"
ONBUILD COPY . /usr/src/app
ONBUILD RUN <<EOF
python -m compileall -q /usr/src/app
EOF
ONBUILD LABEL org.example.built-from="python-onbuild"
ONBUILD USER nobody

EXPOSE 8000
CMD ["python", "app.py"]
