"""The serving process's garbage collector (web/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dailypapers.web import heap
from dailypapers.web.app import serve_app


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    """The collector's thresholds before the test, put back after it."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults, whatever ran before
    yield before
    gc.set_threshold(*before)


def test_tune_collects_young_objects_less_often(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 8, 12)
    heap.tune()
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, 8, 12)
    assert heap.YOUNG_THRESHOLD >= 10 * 700


def test_the_served_app_runs_with_the_tuned_collector(thresholds: tuple[int, int, int]) -> None:
    serve_app()
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, 10, 10)
