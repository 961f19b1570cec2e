"""WSGI entry point. It defaults to production settings (see tracker/settings.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DJANGO_ENV", "production")

application = get_wsgi_application()
