# Transfer Tracker web image: gunicorn serving the Django app, static files by WhiteNoise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
# collectstatic needs settings that import; these placeholder values are used for this step only.
# The files are baked into the image, so every replica serves the same ones with no shared disk.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build \
    python manage.py collectstatic --noinput && \
    python manage.py compile_translations

# The data releases' folder (docker-compose.yml mounts the `releases` volume there): owned by
# the app's user, which an empty named volume takes over when it is first mounted.
RUN useradd --create-home --uid 1000 tracker \
    && mkdir -p /srv/releases && chown tracker:tracker /srv/releases
USER tracker

EXPOSE 8000
# No curl in the slim image. The Host header must be one Django accepts (ALLOWED_HOSTS), or it
# answers 400; /healthz is exempt from the HTTPS redirect.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD \
    python -c "import os, urllib.request as r; \
host = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); \
host = 'localhost' if host in ('', '*') else host; \
r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4)"

# A single container migrates, then serves. docker-compose.yml instead runs the migrations once
# in its `migrate` service and only gunicorn here, so replicas never migrate concurrently.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn tracker.wsgi -c gunicorn.conf.py"]
