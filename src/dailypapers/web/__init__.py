"""The web site: server-rendered pages (``pages``, Jinja2 templates, paper cards in ``cards``),
the JSON API under /api (``api``, shaped like Hugging Face's) and Atom/RSS feeds under /feeds
(``syndication``), wired into one FastAPI app by ``app`` and served by ``dailypapers serve``.

Papers are read only through :mod:`dailypapers.feed.reader` (one read transaction per
request), never from ``store`` (``tests/web/test_boundaries.py`` checks the imports), and
searched through the engine of :mod:`dailypapers.search.service`. ``cache``, ``security`` and
``head`` are plain ASGI middlewares: whole-response cache, security headers, HEAD as GET.
"""
