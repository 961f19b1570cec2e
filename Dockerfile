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
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 tracker
USER tracker

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn tracker.wsgi --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
