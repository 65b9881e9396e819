"""Dashboards: the FastAPI web app (routes, templates, static assets, Gerrit dashboard exports)."""
