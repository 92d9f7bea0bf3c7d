"""Ingest: turn real sources (arXiv snapshots and listings, OAI-PMH, the arXiv API, RSS,
Hugging Face daily papers) into :class:`~dailypapers.paper.PaperRecord` streams, and
:mod:`~dailypapers.ingest.run` writes any such stream to the store in resumable batches.
"""
