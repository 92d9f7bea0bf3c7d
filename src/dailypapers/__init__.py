"""dailypapers: a self-hostable daily feed of new arXiv papers.

A paper flows through the subpackages in this order:
``ingest`` (real arXiv and Hugging Face sources) -> ``store`` (one relational schema,
SQLite or PostgreSQL). The command line in ``cli`` runs each step as a job.
"""

__version__ = "0.1.0"
