# The Rasa environment (Python 3.10, pinned by requirements/rasa.lock), for
# both the Rasa server and the action server (docker-compose.yml runs it
# twice with different commands). The model is trained while the image is
# built, so the image carries the model of its own data.
# Build from the repository root: docker build -f docker/rasa.Dockerfile .
FROM python:3.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONHASHSEED=0 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    RASA_TELEMETRY_ENABLED=false

WORKDIR /app
COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install "uv==0.13.9" \
 && uv pip install --system -r requirements/rasa.lock

COPY pyproject.toml ./
COPY soudan/ soudan/
RUN uv pip install --system --no-deps .

COPY chatbot/ chatbot/
RUN cd chatbot \
 && rasa train --config config.yml --out /app/models --fixed-model-name ginza \
 && rm -rf .rasa

COPY docker/rasa_serve.py /app/rasa_serve.py
RUN useradd --create-home --uid 10001 rasa && chown -R rasa /app/chatbot
USER rasa
WORKDIR /app/chatbot
# 5005: Rasa (REST channel); 5055: the action server. Both only on the
# compose file's internal network. Rasa's HTTP API needs the token of
# RASA_TOKEN or RASA_TOKEN_FILE (rasa_serve.py refuses to start without one).
EXPOSE 5005 5055
CMD ["python", "/app/rasa_serve.py", "run", "--enable-api", "--model", "/app/models/ginza.tar.gz", \
     "--port", "5005", "--endpoints", "endpoints.redis.yml", "--credentials", "credentials.yml"]
