# certbody production image: gunicorn (web) and Celery (worker, beat); see docker-compose.yml.
FROM python:3.11-slim-bookworm

# PYTHONPATH: run from the source tree in /app. Settings derive BASE_DIR (templates/,
# certbody/data, certbody/static, var/) from the location of certbody/settings.py, and a
# plain "pip install ." does not carry those non-Python files into site-packages.
# XDG_CACHE_HOME: fontconfig (WeasyPrint) needs a writable cache for the unprivileged user.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=certbody.settings \
    MEDIA_ROOT=/data/files \
    XDG_CACHE_HOME=/tmp/.cache

# WeasyPrint (PDF certificates): Pango, HarfBuzz subsetting and CJK fonts; pg_dump and
# pg_restore for `manage.py backup` / `restore` on PostgreSQL.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        fonts-noto-cjk \
        postgresql-client \
        libharfbuzz-subset0 \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 certbody \
    && useradd --system --uid 10001 --gid certbody --home-dir /app --no-create-home certbody

WORKDIR /app
COPY . /app
RUN pip install .

# Static files are baked into the image (served by whitenoise); the dummy key is build-only.
RUN SECRET_KEY=build-only-not-secret DEBUG=0 python manage.py collectstatic --noinput \
    && mkdir -p /app/var /data/files \
    && chown -R certbody:certbody /app/var /data

USER certbody
EXPOSE 8000

CMD ["gunicorn", "certbody.wsgi:application", "-b", "0.0.0.0:8000", "-w", "3"]
