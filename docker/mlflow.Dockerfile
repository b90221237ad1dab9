# syntax=docker/dockerfile:1.7
# The MLflow registry server of the chart: MLflow with the PostgreSQL driver (psycopg 3,
# which SQLAlchemy 2.1 uses for postgresql://), and the S3
# and GCS clients for artifacts. Build from the repository root:
#   docker build -f docker/mlflow.Dockerfile -t ghcr.io/llmops/mlflow:0.1.0 .
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/llmops \
 && /opt/llmops/bin/pip install "mlflow==3.17.*" "psycopg[binary]>=3.2,<4" "boto3>=1.34,<2" "google-cloud-storage>=2.16,<4"

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --gid 10001 llmops \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin llmops
COPY --from=build /opt/llmops /opt/llmops
ENV PATH=/opt/llmops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
EXPOSE 5000
ENTRYPOINT ["mlflow"]
CMD ["server", "--host", "0.0.0.0", "--port", "5000"]
