"""The garbage collector of a serving process: young objects collected ten times less often.

CPython collects its youngest generation once the objects it tracks (containers: lists,
dicts, class instances) allocated outnumber those freed by 700. A request allocates and
frees thousands, and the count never goes below zero, so the frees that come right after a
collection are not counted against the next one: under load at 32 connections, one worker,
the server collected 2 to 80 times a second (``/healthz`` and ``/api/papers/<id>`` in the
thread pool the most), and each collection moved the objects of the requests then in flight
into an older generation, which filled with objects freed soon after. That made full
collections, which walk every object not frozen (the pages' memos: some 15,000 entries),
come every few seconds in the paper and API runs: 25 to 65 ms each, a pause of the event
loop that every one of the 32 waiting requests sat through (BENCHMARKS.md, "Uncached pages
under load: the collector and the API's paper, session 11").

With the young threshold at 7,000 the same runs collected 0 to 4 times in 12 s, never a full
collection. Garbage in reference cycles waits longer for its collection (some 7,000 young
objects more at most), which a server's memory does not notice. The engine's own heap is
frozen apart when it opens (``search/service.py``). ``serve_app`` calls :func:`tune` in each
worker; ``benchmarks.web_cpu`` too, to measure the app as it serves.
"""

from __future__ import annotations

import gc

# Net allocations of tracked objects before a young collection (CPython's default: 700).
YOUNG_THRESHOLD = 7_000


def tune() -> None:
    """Collect the young generation after ``YOUNG_THRESHOLD`` net allocations; the older
    generations keep their thresholds (each collected after 10 of the one below)."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
