"""``dailypapers ingest arxiv``: harvest arXiv over OAI-PMH (ListRecords), resumably.

Run it daily from cron; the CLI builds an :class:`OaiHarvest` with :func:`arxiv_harvest`
and writes its items with :func:`dailypapers.ingest.run.ingest`.

* Sets: arXiv's OAI sets are archives, not categories: ``cs``, ``math``, ``stat``, ``eess``,
  ``econ``, ``q-bio``, ``q-fin``, and ``physics:<archive>`` for the physics archives
  (``physics:hep-th``, ``physics:astro-ph``, ``physics:physics`` for ``physics.optics``...).
  Each set needed by the requested categories is harvested once, and only records having at
  least one requested category are kept (``cs`` alone as a category keeps all of ``cs.*``).
* Formats: ``arXiv`` (default) or ``arXivRaw``, parsed by
  :mod:`dailypapers.ingest.oai_records`. Deleted records are skipped silently; a malformed
  record is reported as ``Skipped("<set> page N record M", reason)`` and the run goes on.
* Resuming: after each page the harvester yields the page's records and then a
  ``Checkpoint("oai:<prefix>:<set>", state)`` holding the window (base URL, from, until, set,
  prefix) and the next resumptionToken; the store commits both in one transaction. A later run
  for the same window resumes from that token; without ``--from``, an unfinished harvest of the
  same set and prefix is resumed whatever its window. A completed list clears that state and
  records ``oai-done:<set>`` = the next default ``from``.
* Default ``from``: the date of the server's response to the last completed harvest (arXiv's
  advice for incremental harvesting; the one-day overlap is harmless, ingest is idempotent), or
  the day after its ``until`` when one was given; with no completed harvest, 3 days ago.
* Errors: HTTP 503 Retry-After and transient failures are retried by
  :class:`~dailypapers.ingest.http.Fetcher`; ``noRecordsMatch`` is an empty list;
  ``badResumptionToken`` restarts the window from its start once, a second one is fatal; other
  OAI errors, and pages that are still not XML after the retries, raise
  :class:`~dailypapers.ingest.run.SourceUnusable`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dailypapers.ingest.http import Fetcher, backoff_seconds
from dailypapers.ingest.oai_records import (
    NotOaiPmh,
    Page,
    is_deleted,
    parse_page,
    parse_record,
)
from dailypapers.ingest.run import Checkpoint, Item, Skipped, SourceUnusable
from dailypapers.paper import CATEGORY_RE, InvalidRecord, PaperRecord
from dailypapers.store import Store
from dailypapers.store.runs import load_state

PREFIXES = ("arXiv", "arXivRaw")
ARCHIVE_SETS = frozenset({"cs", "econ", "eess", "math", "q-bio", "q-fin", "stat"})
PHYSICS_ARCHIVES = frozenset({
    "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin",
    "nucl-ex", "nucl-th", "physics", "quant-ph",
})  # fmt: skip
# arXiv announces Sunday to Thursday; three days back covers a weekend on a first run.
FIRST_LOOKBACK = timedelta(days=3)
# Some OAI-PMH servers send their <error> body with one of these statuses instead of 200.
ERROR_STATUSES = frozenset({400, 404, 422})


def set_for(category: str) -> str:
    """The OAI set holding a category: ``cs.CL`` -> ``cs``, ``hep-th`` -> ``physics:hep-th``."""
    archive = category.split(".")[0]
    if not CATEGORY_RE.match(category):
        raise ValueError(f"{category!r} is not an arXiv category (e.g. cs.CL, hep-th)")
    if archive in ARCHIVE_SETS:
        return archive
    if archive in PHYSICS_ARCHIVES:
        return f"physics:{archive}"
    known = ", ".join(sorted(ARCHIVE_SETS | PHYSICS_ARCHIVES))
    raise ValueError(f"{category!r}: unknown arXiv archive {archive!r} (known: {known})")


def sets_for(categories: Iterable[str]) -> list[str]:
    """Each needed set once, in the order of the categories."""
    return list(dict.fromkeys(set_for(category) for category in categories))


def wanted(record: PaperRecord, categories: frozenset[str]) -> bool:
    """Whether a harvested record has one of the requested categories (or archives)."""
    if not record.categories:
        return True  # oai_dc names no category codes: the set was the only filter
    return any(c in categories or c.split(".")[0] in categories for c in record.categories)


@dataclass(frozen=True)
class Window:
    """One ListRecords request list: a set, a format and a datestamp range."""

    base_url: str
    prefix: str
    set: str
    start: date
    until: date | None = None

    @property
    def key(self) -> str:
        return f"oai:{self.prefix}:{self.set}"

    @property
    def done_key(self) -> str:
        # Per set, not per format: papers harvested in either format are the same papers.
        return f"oai-done:{self.set}"

    def params(self) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.prefix, "set": self.set}
        params["from"] = self.start.isoformat()
        if self.until is not None:
            params["until"] = self.until.isoformat()
        return params

    def as_state(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "prefix": self.prefix,
            "set": self.set,
            "from": self.start.isoformat(),
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Window:
        until = date.fromisoformat(state["until"]) if state.get("until") else None
        start = date.fromisoformat(state["from"])
        return cls(state["base_url"], state["prefix"], state["set"], start, until)


@dataclass
class SetPlan:
    """Where one set's harvest starts: a fresh window, or a stored token to resume from."""

    window: Window
    token: str | None = None
    pages: int = 0  # pages already harvested before the token
    started: str | None = None  # the server's date when this harvest began

    def state(self) -> dict[str, Any]:
        progress = {"token": self.token, "pages": self.pages, "started": self.started}
        return self.window.as_state() | progress


def _stored_window(progress: Mapping[str, Any] | None, base: Window) -> Window | None:
    """The window of an unfinished harvest of the same list (endpoint, prefix, set), if any."""
    if not progress or not progress.get("token"):
        return None
    try:
        stored = Window.from_state(progress)
    except (KeyError, TypeError, ValueError):
        return None  # state written by another version: start afresh rather than fail
    same_list = replace(stored, start=base.start, until=base.until) == base
    return stored if same_list else None


def plan_set(
    base: Window,
    *,
    start_given: bool,
    progress: Mapping[str, Any] | None,
    done: Mapping[str, Any] | None,
    today: date,
) -> SetPlan:
    """Resume a matching unfinished harvest, else start a fresh window (see the docstring)."""
    stored = _stored_window(progress, base)
    if stored is not None and progress is not None:
        if stored == base or (not start_given and base.until in (None, stored.until)):
            return SetPlan(
                stored, progress["token"], progress.get("pages", 0), progress.get("started")
            )
    if start_given:
        return SetPlan(base)
    start = date.fromisoformat(done["next_from"]) if done else today - FIRST_LOOKBACK
    if base.until is not None and start > base.until:
        raise ValueError(
            f"set {base.set}: already harvested up to {start - timedelta(days=1)}, "
            f"after --until {base.until}; give --from to harvest again"
        )
    return SetPlan(Window(base.base_url, base.prefix, base.set, start, base.until))


class OaiHarvest:
    """The items of a ListRecords harvest over one or more sets; ``seen`` counts records."""

    def __init__(self, fetcher: Fetcher, plans: list[SetPlan], categories: Iterable[str]):
        self.fetcher = fetcher
        self.plans = plans
        self.categories = frozenset(categories)
        self.seen = 0

    def __iter__(self) -> Iterator[Item]:
        for plan in self.plans:
            yield from self._harvest(plan)

    def _harvest(self, plan: SetPlan) -> Iterator[Item]:
        window = plan.window
        restarted = False
        while True:
            page, url = self._fetch(window, plan.token)
            bad_token = page.error is not None and page.error.code == "badResumptionToken"
            if bad_token and plan.token is not None and not restarted:
                # An expired token (e.g. stored by a run killed days ago): start the window
                # again, once; records already stored come back "unchanged".
                restarted, plan.token, plan.pages = True, None, 0
                continue
            if page.error is not None and page.error.code != "noRecordsMatch":
                raise SourceUnusable(
                    f"{url}: OAI-PMH error {page.error.code}: {page.error.message}"
                )
            plan.pages += 1
            plan.started = plan.started or _server_day(page).isoformat()
            yield from self._records(page, plan.pages, window.set)
            plan.token = page.token
            if plan.token is None:
                break
            yield Checkpoint(window.key, plan.state())
        yield Checkpoint(window.done_key, {"next_from": _next_from(plan).isoformat()})
        yield Checkpoint(window.key, None)

    def _records(self, page: Page, page_number: int, set_spec: str) -> Iterator[Item]:
        for number, element in enumerate(page.records, start=1):
            self.seen += 1
            if is_deleted(element):
                continue
            try:
                record = parse_record(element)
            except InvalidRecord as error:
                yield Skipped(f"{set_spec} page {page_number} record {number}", str(error))
                continue
            if wanted(record, self.categories):
                yield record

    def _fetch(self, window: Window, token: str | None) -> tuple[Page, str]:
        """One page, fetched again (with back-off) while the body is not OAI-PMH XML."""
        params = {"verb": "ListRecords", "resumptionToken": token} if token else window.params()
        attempts = self.fetcher.retries + 1
        for attempt in range(attempts):
            response = self.fetcher.get(window.base_url, params, ok=ERROR_STATUSES)
            url = str(response.url)
            try:
                page = parse_page(response.content)
            except NotOaiPmh as error:
                problem = str(error)
                if not response.is_success:
                    raise SourceUnusable(f"{url}: HTTP {response.status_code}") from None
            else:
                if not response.is_success and page.error is None:
                    raise SourceUnusable(f"{url}: HTTP {response.status_code}")
                return page, url
            if attempt + 1 < attempts:
                wait = backoff_seconds(attempt, self.fetcher.backoff_base)
                self.fetcher.sleep(min(wait, self.fetcher.max_wait))
        raise SourceUnusable(f"{url}: {problem} after {attempts} attempts")


def _today() -> date:
    return datetime.now(UTC).date()


def _server_day(page: Page) -> date:
    return page.response_date or _today()


def _next_from(plan: SetPlan) -> date:
    server_day = date.fromisoformat(plan.started) if plan.started else _today()
    if plan.window.until is not None:
        # An --until in the future covered only up to the server's day.
        return min(plan.window.until + timedelta(days=1), server_day)
    return server_day


def arxiv_harvest(
    store: Store,
    fetcher: Fetcher,
    *,
    base_url: str,
    categories: Iterable[str],
    prefix: str = "arXiv",
    start: date | None = None,
    until: date | None = None,
    today: date | None = None,
) -> OaiHarvest:
    """Plan the harvest of every set the categories need, from the stored harvest state.

    Raises ``ValueError`` for an unknown category or format, or an empty date range.
    """
    categories = tuple(categories)
    if prefix not in PREFIXES:
        raise ValueError(f"metadata prefix {prefix!r}: choose {' or '.join(PREFIXES)}")
    if start is not None and until is not None and start > until:
        raise ValueError(f"--from {start} is after --until {until}")
    day = today or _today()
    plans = []
    with store.read() as connection:
        for set_spec in sets_for(categories):
            base = Window(base_url, prefix, set_spec, start or day, until)
            progress = load_state(connection, base.key)
            done = load_state(connection, base.done_key)
            plans.append(
                plan_set(
                    base, start_given=start is not None, progress=progress, done=done, today=day
                )
            )
    return OaiHarvest(fetcher, plans, categories)
