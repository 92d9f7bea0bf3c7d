"""dailypapers: a self-hostable daily feed of new arXiv papers, with hybrid search, paper
pages, a JSON API and Atom/RSS feeds.

A paper flows through the subpackages in this order:
``ingest`` (arXiv's and Hugging Face's real formats) -> ``store`` (one relational schema on
SQLite or PostgreSQL; all the SQL) -> ``index`` (a BM25 keyword index and sentence
embeddings) -> ``search`` (hybrid search over both) -> ``feed`` (what a day, week, month or
trending shows, and the one reader the site reads through) -> ``web`` (pages, API, feeds).
``cli`` runs each step as a command (``dailypapers --help``); ``paper`` is the record every
source produces and ``settings`` the one typed settings object.
"""

__version__ = "0.1.0"
