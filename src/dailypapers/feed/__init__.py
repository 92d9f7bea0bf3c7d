"""The feed: which papers a day, week, month or trending window shows and in what order, and
the one read path of the site.

``periods`` reads the periods a request names and the trending windows; ``trending`` is the
pure trending score; ``daily`` ranks a period's papers; ``reader`` is what pages, the API and
the feeds read through (one read transaction per request; its SQL is in
:mod:`dailypapers.store.entries`).
"""
