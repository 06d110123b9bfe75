# The web gateway (Python 3.11): FastAPI under uvicorn on port 8000, with
# soudan for the facts. Only the run-time packages of requirements/gateway.in
# (the part above "# tests and tools"), at the versions pinned in
# requirements/gateway.lock.
# Build from the repository root: docker build -f docker/gateway.Dockerfile .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements/gateway.in requirements/gateway.lock requirements/
RUN pip install "uv==0.13.9" \
 && sed '/^# tests and tools/,$d' requirements/gateway.in > /tmp/runtime.in \
 && uv pip install --system -r /tmp/runtime.in -c requirements/gateway.lock

COPY pyproject.toml ./
COPY soudan/ soudan/
COPY staffops/ staffops/
RUN uv pip install --system --no-deps .

COPY gateway/app/ gateway/app/
RUN useradd --create-home --uid 10001 gateway
USER gateway
WORKDIR /app/gateway
EXPOSE 8000
# --no-proxy-headers: X-Forwarded-For is believed only from the proxies in
# the gateway's TRUSTED_PROXIES setting (empty: from nobody).
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--no-server-header"]
