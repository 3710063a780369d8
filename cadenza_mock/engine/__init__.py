"""State and behaviour of the mock, independent of HTTP (never imports aiohttp)."""
