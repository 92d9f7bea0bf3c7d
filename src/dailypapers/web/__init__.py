"""The web server: a JSON API under /api (pages come later)."""
