# Baton service image: the package installed from this checkout, serving GraphQL on 8000.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY catalog catalog
COPY ingesters ingesters
COPY migrations migrations
RUN pip install --no-cache-dir . && useradd --system --home /data baton \
    && mkdir -p /data && chown baton /data

USER baton
ENV BATON_HOME=/data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["baton", "serve", "--host", "0.0.0.0", "--port", "8000"]
