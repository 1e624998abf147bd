"""The django-ninja API at /api/ (OpenAPI docs at /api/docs)."""
