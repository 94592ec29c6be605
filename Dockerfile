# Production image: gunicorn serving crm.wsgi; the same image runs the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=0 \
    CRM_VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install . && useradd --create-home --uid 1000 crm
COPY . .
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R crm:crm /app/var

USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.wsgi", "-c", "python:crm.gunicorn_conf"]
