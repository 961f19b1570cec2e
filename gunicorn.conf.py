"""Gunicorn settings for the container: `gunicorn tracker.wsgi -c gunicorn.conf.py`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers: every request is short, database-bound Django code, and nginx in front buffers
# slow clients, so one request per process is simplest and safest. Scale with processes
# (here) and with containers (`docker compose up --scale web=3`).
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# A request that takes longer than this is stuck: the worker is killed and replaced.
timeout = 30
# On SIGTERM (deploys, scale-down) finish requests in flight before exiting.
graceful_timeout = 30
# Nginx reuses upstream connections; keep idle ones open a little longer than a request.
keepalive = 5

# Recycle each worker after this many requests (jittered so they do not all restart at once):
# bounds any slow growth in memory.
# At a few hundred requests per second per worker, a low limit would restart workers every few
# seconds (each restart costs a second of imports); memory is bounded by design (downloads are
# streamed), so this is only a backstop.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 20000)
max_requests_jitter = max_requests // 10

# No access log: the app logs one JSON line per request itself, with its request id
# (tracker.observability.RequestIdMiddleware). Gunicorn's own errors go to stderr.
accesslog = None
errorlog = "-"

# Addresses whose X-Forwarded-* headers gunicorn believes. "*" is right only when the app port is
# reachable solely from the proxy, as inside the compose network (web publishes no port); set it
# to the proxy's address anywhere else.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
