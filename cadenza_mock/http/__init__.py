"""aiohttp layer: the app factory, routes, the one error middleware, the admin API."""
