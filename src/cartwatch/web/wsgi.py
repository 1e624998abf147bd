"""WSGI entry point (waitress in ``cartwatch serve``; any WSGI server in production)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartwatch.web.settings")
application = get_wsgi_application()
