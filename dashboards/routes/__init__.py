"""Web routes: one module per area of the site, listed in dashboards.app.ROUTER_MODULES."""
