"""The background worker: the site's periodic work, run by ``dailypapers worker`` (or by
``dailypapers serve`` as one child process, by default on SQLite).

``registry`` lists the job kinds and their schedules (harvest arXiv after each announcement,
embed papers that have no vector yet): adding a job is one entry there. ``schedule`` turns a
schedule into slots, ``loop`` is the worker (create due slots, claim one run under a lease,
run it, record the outcome), ``context`` is what a job sees while it runs, ``jobs`` holds the
jobs themselves. The runs live in the store's job table (``dailypapers.store.jobs``), so any
number of workers on any number of machines can share one PostgreSQL database: each due run
executes once, and a killed worker's run is taken over when its lease expires.
"""
