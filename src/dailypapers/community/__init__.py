"""The community's writes: upvotes (``votes``) and, next, paper submissions.

The web layer calls these (it never touches the store); each takes the site's
:class:`~dailypapers.store.Store`, checks its rules and writes in one transaction, with the
SQL in :mod:`dailypapers.store.votes`.
"""
