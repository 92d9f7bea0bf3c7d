"""What every benchmark shares: the machine line, timing, percentiles, BENCHMARKS.md sections."""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
LISTING = SHARED_DATA / "arxiv-daily-listings" / "papers.jsonl.gz"
SCIFACT = SHARED_DATA / "beir-scifact"
REPORT = ROOT / "BENCHMARKS.md"

T = TypeVar("T")


def machine(extra: str = "") -> str:
    """CPU model, cores, memory and Python version (plus ``extra``), for a report's header."""
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    text = f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB RAM, Python {platform.python_version()}"
    return f"{text}, {extra}" if extra else text


def timed(function: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``function`` took, and what it returned."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5 for p50, 0.99 for p99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def write_section(heading: str, text: str, out: Path = REPORT) -> None:
    """Replace the section under ``heading`` in ``out`` (or append it), keeping the others."""
    report = out.read_text() if out.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(report):
        report = pattern.sub(lambda _match: text + "\n\n", report)
    else:
        report = report.rstrip("\n") + "\n\n" + text + "\n"
    out.write_text(report.rstrip("\n") + "\n")
