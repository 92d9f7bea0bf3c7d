"""What people do with papers: upvotes (``votes``), paper submissions (``submissions``) and
authorship claims (``claims``).

The web layer calls these (it never touches the store); each takes the site's
:class:`~dailypapers.store.Store`, checks its rules and writes in one transaction, with the
SQL in :mod:`dailypapers.store.votes`, :mod:`~dailypapers.store.submissions` and
:mod:`~dailypapers.store.claims`.
"""
