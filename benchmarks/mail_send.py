"""Render and send 10,000 digests: ``python -m benchmarks.mail_send``, figures into
BENCHMARKS.md.

A SQLite store with the real 2026-06-12 papers and ``SUBSCRIBERS`` confirmed subscribers;
``dailypapers mail send`` runs as its own process (no rate limit) against a local aiosmtpd
server that accepts everything and only counts. Measured: wall time, messages a minute, and
the sender's peak resident memory (from the kernel's rusage of the process), also at a tenth
of the subscribers, to show that memory does not grow with the list, and once more with
every mail DKIM-signed (a 2048-bit RSA key made with ``openssl genrsa``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from benchmarks.common import SHARED_DATA, machine, write_section
from dailypapers.digest import subscriptions as subs
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings
from dailypapers.store import open_store

CAPTURE = SHARED_DATA / "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
DAY = date(2026, 6, 12)
SUBSCRIBERS = 10_000
DAILYPAPERS = Path(sys.executable).with_name("dailypapers")


class Counting:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _store(work: Path, subscribers: int) -> str:
    url = f"sqlite:///{work / f'send{subscribers}.sqlite3'}"
    store = open_store(url)
    ingest(store, "hf", "capture", HfDailySource(CAPTURE))
    settings = Settings(mode="development", data_dir=work)
    for number in range(subscribers):
        subs.add_subscriber(store, settings, f"reader{number}@example.org", confirmed=True)
    store.dispose()
    return url


def _dkim_key(work: Path) -> Path:
    key = work / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    return key


def measure(subscribers: int, *, dkim: bool = False) -> tuple[int, float, float]:
    """(accepted, seconds, peak RSS MiB) of one ``mail send`` to ``subscribers`` (each mail
    DKIM-signed with a 2048-bit RSA key when ``dkim``)."""
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        url = _store(work, subscribers)
        handler, port = Counting(), _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        environment |= {
            "DAILYPAPERS_MODE": "development", "DAILYPAPERS_DATA_DIR": str(work),
            "DAILYPAPERS_DATABASE_URL": url, "DAILYPAPERS_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "DAILYPAPERS_SITE_URL": "https://papers.example.org",
            "DAILYPAPERS_MAIL_RATE": "1000000",
        }  # fmt: skip
        if dkim:
            environment["DAILYPAPERS_DKIM_PRIVATE_KEY_FILE"] = str(_dkim_key(work))
        try:
            started = time.perf_counter()
            sender = subprocess.Popen(
                [str(DAILYPAPERS), "mail", "send", "--date", DAY.isoformat()],
                env=environment, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            _pid, _status, usage = os.wait4(sender.pid, 0)
            seconds = time.perf_counter() - started
        finally:
            controller.stop()
        return handler.count, seconds, usage.ru_maxrss / 1024


def main() -> None:
    # ``python -m benchmarks.mail_send 2000``: fewer subscribers on a busy machine.
    subscribers = int(sys.argv[1]) if len(sys.argv) > 1 else SUBSCRIBERS
    runs = [
        ("no", measure(subscribers // 10)),
        ("no", measure(subscribers)),
        ("yes", measure(subscribers, dkim=True)),
    ]
    rows = [
        f"| {count:,} | {dkim} | {seconds:.1f} | {count / seconds * 60:,.0f} | {rss:.0f} |"
        for dkim, (count, seconds, rss) in runs
    ]
    text = "\n".join(
        [
            "## Digest sending",
            "",
            f"{machine()}; {datetime.now(UTC):%Y-%m-%d}; `python -m benchmarks.mail_send`. "
            "`dailypapers mail send` (one process, one SMTP connection, no rate limit) builds "
            "the parts an edition's subscribers share once (text and HTML, the day's 30 real "
            "papers, 10 shown), assembles each subscriber's mail from bytes, queues and marks "
            "each delivery in the SQLite outbox, and sends it to a local aiosmtpd server (in "
            "the benchmark's process, on the same 2 cores); the time includes the process's "
            "start-up. DKIM: each mail signed with a 2048-bit RSA key. Load average at the "
            f"end: {os.getloadavg()[0]:.1f} (the machine is shared).",
            "",
            "| subscribers | DKIM | seconds | messages a minute | sender's peak RSS (MiB) |",
            "| --- | --- | --- | --- | --- |",
            *rows,
        ]
    )
    print(text)
    write_section("## Digest sending", text)


if __name__ == "__main__":
    main()
