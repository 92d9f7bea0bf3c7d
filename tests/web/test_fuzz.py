"""The schema fuzzer: schemathesis drives every operation of /openapi.json, in process.

Each operation gets generated requests (valid ones, and ones the schema says are wrong);
every answer must be no server error and exactly what the schema promises (status code,
content type, headers, body). The seed is fixed and the number of examples bounded so the
suite stays quick; ``make fuzz`` runs the same tests with ``FUZZ_EXAMPLES=400`` (figures in
RELIABILITY.md).

schemathesis's own pytest loader (``from_fixture``) does not work with pytest 9 (it sets a
node attribute pytest removed), so each operation is a parametrized test that runs the
operation's hypothesis strategy itself.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from dailypapers.index.job import update_indexes
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web import (
    account_api,
    api,
    collections,
    comments,
    pages,
    submissions,
    syndication,
    votes,
)
from dailypapers.web.app import create_app
from dailypapers.web.pages import alerts

# Examples per operation: enough for the suite to stay under a minute; `make fuzz` sets 400.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))

OPERATIONS = sorted(
    (method, route.path_format)
    for router in (
        api.router,
        account_api.router,
        syndication.router,
        pages.router,
        votes.api,
        submissions.api,
        collections.api,
        comments.api,
        alerts.api,
    )
    for route in router.routes
    if isinstance(route, APIRoute) and route.include_in_schema
    for method in route.methods or ()
)


PERIODS = ("date", "week", "month")


def _exempt_checks(case: Any) -> list[Any]:
    """Checks that do not apply to this case; one narrow exemption.

    OpenAPI cannot say "at most one of these query parameters", so a request giving two of
    date, week and month is valid by the schema, and the API's 422 for it is right.
    """
    given = [name for name in PERIODS if (case.query or {}).get(name)]
    return [positive_data_acceptance] if len(given) > 1 else []


@pytest.fixture
def fuzzed_schema(filled: Store) -> Iterator[Any]:
    settings = get_settings()
    update_indexes(filled, settings, None)  # the keyword index, as the index job builds it
    app = create_app(filled, settings)
    # Opened (the index files read, the model loaded) before the first request: opening
    # must not count against the fuzzer's 10 s read timeout on a busy machine.
    app.state.engine.get()
    with TestClient(app):  # runs the lifespan (thread limits) as a server would
        raw = app.openapi()
        schema = schemathesis.openapi.from_dict(raw)
        schema.app = app  # what schemathesis.openapi.from_asgi sets: requests go in-process
        yield schema


def test_every_operation_of_the_schema_is_fuzzed(fuzzed_schema: Any) -> None:
    listed = {
        (result.ok().method.upper(), result.ok().path)
        for result in fuzzed_schema.get_all_operations()
    }
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation_answers_as_its_schema_says(fuzzed_schema: Any, method: str, path: str) -> None:
    operation = fuzzed_schema[path][method]

    # Requests that fit the schema and requests that break it (a 4xx is then expected).
    cases = strategies.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # a fixed seed: the same cases on every run
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: Any) -> None:
        response = case.call_and_validate(excluded_checks=_exempt_checks(case))
        statuses[response.status_code] += 1

    statuses: Counter[int] = Counter()
    fuzz()
    # Shown by `make fuzz` (pytest -rP) for RELIABILITY.md; the last line is the total.
    summary = ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items()))
    print(f"{method} {path}: {statuses.total()} requests ({summary})")
    assert not any(code >= 500 for code in statuses)
