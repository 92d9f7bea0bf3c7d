"""``/about`` (what the site is, where papers come from, the feed-day rule) and
``/about/ranking`` (the daily order and the trending formula, with a chart drawn from it).

The formula text is the docstring of :mod:`dailypapers.feed.trending` and the chart's curves
are computed with :func:`~dailypapers.feed.trending.trending_score` itself, so the page cannot
drift from the code.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from dailypapers.feed import trending
from dailypapers.search import fusion
from dailypapers.web.templating import render

router = APIRouter()

# The chart: score against age for a few upvote counts over a week, on a log scale (the
# score spans four orders of magnitude in that time; on a linear scale all curves hug zero).
CHART_UPVOTES = (1, 10, 100)
CHART_HOURS = 168
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 560, 260, 52


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


def _scale(low: float, high: float, size: float, start: float) -> Callable[[float], float]:
    return lambda value: start + size * (value - low) / (high - low)


def _chart() -> dict[str, object]:
    """Curves and ticks of the chart, in SVG coordinates."""
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    scores = {
        v: [trending.trending_score(v, h) for h in range(CHART_HOURS + 1)] for v in CHART_UPVOTES
    }
    every = [score for curve in scores.values() for score in curve]
    top, bottom = math.ceil(math.log10(max(every))), math.floor(math.log10(min(every)))
    x = _scale(0, CHART_HOURS, inner_w, CHART_PAD)
    y = _scale(top, bottom, inner_h, CHART_PAD)  # high scores at the top
    curves = [
        (votes, " ".join(f"{x(h):.1f},{y(math.log10(score)):.1f}" for h, score in enumerate(curve)))
        for votes, curve in scores.items()
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pad": CHART_PAD,
        "curves": curves,
        "x_ticks": [Tick(x(h), f"{h // 24} d") for h in range(0, CHART_HOURS + 1, 24)],
        "y_ticks": [Tick(y(e), f"{10.0**e:g}") for e in range(bottom, top + 1)],
    }


@router.get("/about")
def about(request: Request) -> Response:
    context = {"title": "About"}
    return render(request, "about.html", context)


@router.get("/about/ranking")
def ranking(request: Request) -> Response:
    examples = [
        (votes, hours, trending.trending_score(votes, hours))
        for votes, hours in ((10, 2), (10, 24), (50, 24), (50, 72), (200, 168))
    ]
    context = {
        "title": "How papers are ranked",
        "formula": (inspect.getdoc(trending) or "").replace("``", "").replace("::", ":"),
        "gravity": trending.GRAVITY,
        "examples": examples,
        "chart": _chart(),
        "fusion_formula": _fusion_formula(),
    }
    return render(request, "ranking.html", context)


def _fusion_formula() -> str:
    """The adaptive fusion's formula, from its docstrings, with the constants in use."""
    score = (inspect.getdoc(fusion.adaptive_fusion) or "").split("\n\n")[1]
    trust = (inspect.getdoc(fusion.semantic_trust) or "").split("\n\n", 1)[-1]
    constants = ", ".join(f"{k} = {v:g}" for k, v in vars(fusion.ADAPTIVE).items())
    text = f"{score}\n\n{trust}\n\n{constants}"
    return text.replace(":func:", "").replace("`", "")
