"""What people do with papers: upvotes (``votes``), paper submissions (``submissions``, with
the moderators' queue) and authorship claims (``claims``); ``export`` adds all of a member's
to "export my data".

The web layer calls these (it never touches the store); each takes the site's
:class:`~dailypapers.store.Store`, checks its rules and writes in one transaction, with the
SQL in :mod:`dailypapers.store.votes`, :mod:`~dailypapers.store.submissions` and
:mod:`~dailypapers.store.claims`.
"""
