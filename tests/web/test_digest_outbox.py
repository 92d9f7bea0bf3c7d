"""The outbox: each confirmed subscriber gets an edition once (a second run sends nothing),
to a real SMTP server; the list headers and both parts' unsubscribe links work against the
app; 4xx and unreachable servers are retried, 5xx bounces and three bounces stop mail; a
dead sender's rows are taken over after its lease; the commands. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dailypapers.cli import app as cli_app
from dailypapers.digest import subscriptions as subs
from dailypapers.digest.compose import pick_edition
from dailypapers.digest.edition import Edition
from dailypapers.digest.headers import delivery_message_id
from dailypapers.digest.outbox import MAX_ATTEMPTS, Pacer, SendAborted, send_edition
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store import outbox as sql
from dailypapers.store.batches import utc_now
from dailypapers.web.app import create_app
from tests.support.smtp import SmtpServer
from tests.web.conftest import CAPTURE, FIXTURES

SITE = "https://papers.example.org"
DAY = date(2026, 6, 12)


@pytest.fixture
def papers(store: Store, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    ingest(store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", SITE)
    monkeypatch.setenv("DAILYPAPERS_MAIL_RATE", "1000")
    get_settings.cache_clear()
    return store


@pytest.fixture
def server(mail_server: SmtpServer, papers: Store) -> SmtpServer:
    return mail_server


def _edition(store: Store, day: date = DAY) -> Edition:
    edition = pick_edition(store, "daily", day)
    assert edition is not None and edition.entries
    return edition


def _subscribe(store: Store, *addresses: str, frequency: str = "daily") -> None:
    for address in addresses:
        subs.add_subscriber(store, get_settings(), address, frequency, confirmed=True)


def test_each_subscriber_gets_the_edition_once(server: SmtpServer, papers: Store) -> None:
    _subscribe(papers, "a@example.org", "b@example.org", "c@example.org")
    _subscribe(papers, "w@example.org", frequency="weekly")
    subs.subscribe(papers, get_settings(), "pending@example.org", "daily")
    server.received.clear()  # the pending address's confirmation mail
    edition = _edition(papers)
    dry = send_edition(papers, get_settings(), edition, dry_run=True)
    assert dry.queued == 3 and server.received == []
    first = send_edition(papers, get_settings(), edition)
    assert (first.queued, first.counts) == (3, {"sent": 3})
    assert sorted(r.recipients[0] for r in server.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    second = send_edition(papers, get_settings(), edition)
    assert (second.queued, second.counts) == (0, {}) and len(server.received) == 3
    assert send_edition(papers, get_settings(), edition, dry_run=True).queued == 0
    with papers.read() as connection:
        assert sql.statuses(connection, edition.name) == {"sent": 3}


def test_headers_and_unsubscribe_links_work_against_the_app(
    server: SmtpServer, papers: Store
) -> None:
    _subscribe(papers, "a@example.org")
    edition = _edition(papers)
    send_edition(papers, get_settings(), edition)
    (message,) = server.messages
    (found,) = subs.all_subscriptions(papers)
    assert message["Message-ID"] == delivery_message_id(get_settings(), edition, found.id)
    assert message["List-Id"] == "Daily Papers daily digest <daily.digest.papers.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert https.startswith(f"{SITE}/unsubscribe?token=") and mailto.startswith("mailto:")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert https in text and https.replace("&", "&amp;") in html
    assert f"{SITE}/digests/daily/2026-06-12" in text
    with TestClient(create_app(papers, get_settings())) as client:
        path = https.removeprefix(SITE)
        assert "Unsubscribe</button>" in client.get(path).text
        assert client.get("/digests/daily/2026-06-12").status_code == 200
        done = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "Unsubscribed" in done.text
    assert subs.all_subscriptions(papers) == []
    with papers.read() as connection:
        assert sql.statuses(connection, edition.name) == {}  # its deliveries went with it


def test_temporary_failures_are_retried_with_back_off(
    server: SmtpServer, papers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_MAIL_RETRY_SECONDS", "1")
    get_settings.cache_clear()
    _subscribe(papers, "a@example.org", "slow@example.org")
    server.refuse["slow@example.org"] = "451 4.3.0 Try again later"
    edition = _edition(papers)
    first = send_edition(papers, get_settings(), edition)
    assert first.counts == {"sent": 1, "retry": 1} and first.next_retry is not None
    assert send_edition(papers, get_settings(), edition).counts == {}  # not due yet
    del server.refuse["slow@example.org"]
    time.sleep(max(0.0, (first.next_retry - utc_now(precise=True)).total_seconds()) + 0.05)
    second = send_edition(papers, get_settings(), edition)
    assert second.counts == {"sent": 1} and second.next_retry is None
    assert sorted(r.recipients[0] for r in server.received) == [
        "a@example.org",
        "slow@example.org",
    ]


def test_a_delivery_fails_after_its_last_attempt(
    server: SmtpServer, papers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_MAIL_RETRY_SECONDS", "0.001")
    get_settings.cache_clear()
    _subscribe(papers, "slow@example.org")
    server.refuse["slow@example.org"] = "421 4.7.0 Too busy"
    totals: dict[str, int] = {}
    for _run in range(MAX_ATTEMPTS):  # the back-off doubles from 1 ms: a few runs do it
        report = send_edition(papers, get_settings(), _edition(papers))
        for outcome, count in report.counts.items():
            totals[outcome] = totals.get(outcome, 0) + count
        if report.next_retry is None:
            break
        time.sleep(max(0.0, (report.next_retry - utc_now(precise=True)).total_seconds()))
    assert totals == {"retry": MAX_ATTEMPTS - 1, "failed": 1}
    (found,) = subs.all_subscriptions(papers)
    assert found.status == "confirmed" and found.bounces == 0  # not the address's fault


def test_an_unreachable_server_is_a_temporary_failure(
    papers: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.server import free_port

    monkeypatch.setenv("DAILYPAPERS_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    _subscribe(papers, "a@example.org")
    report = send_edition(papers, get_settings(), _edition(papers))
    assert report.counts == {"retry": 1}


def test_three_bounces_stop_mail_to_an_address(server: SmtpServer, papers: Store) -> None:
    _subscribe(papers, "gone@example.org", "a@example.org")
    server.refuse["gone@example.org"] = "550 5.1.1 No such user"
    for day in (DAY, date(2024, 1, 1), date(2024, 1, 3)):
        report = send_edition(papers, get_settings(), _edition(papers, day))
        assert report.counts == {"sent": 1, "bounced": 1}
    gone = {found.email: found for found in subs.all_subscriptions(papers)}["gone@example.org"]
    assert (gone.status, gone.bounces) == ("bounced", 3)
    week = pick_edition(papers, "daily", DAY - timedelta(days=0))
    assert week is not None
    server.refuse.clear()
    again = send_edition(papers, get_settings(), _edition(papers, DAY))
    assert again.counts == {}  # nothing more to a bounced address, nor twice to the other


def test_a_dead_senders_rows_are_taken_over_after_its_lease(
    server: SmtpServer, papers: Store
) -> None:
    _subscribe(papers, "a@example.org", "b@example.org")
    edition = _edition(papers)
    past = utc_now() - timedelta(hours=1)
    with papers.write() as connection:
        sql.enqueue(connection, edition.name, "daily", past)
        taken = sql.claim(connection, edition.name, "dead", now=past,
                          lease_until=utc_now() + timedelta(hours=1), limit=1)  # fmt: skip
    assert len(taken) == 1
    report = send_edition(papers, get_settings(), edition)
    assert report.counts == {"sent": 1}  # the other is still under the dead sender's lease
    later = utc_now() + timedelta(hours=2)  # the lease is over: a second sender (dying too)
    with papers.write() as connection:
        retaken = sql.claim(connection, edition.name, "dead2", now=later, lease_until=past, limit=5)
    assert [item.attempts for item in retaken] == [2]
    assert send_edition(papers, get_settings(), edition).counts == {"sent": 1}
    assert len(server.received) == 2


def test_no_mail_server_stops_the_run_and_hands_rows_back(papers: Store) -> None:
    _subscribe(papers, "a@example.org")
    settings: Settings = get_settings().model_copy(update={"mode": "production"})
    edition = _edition(papers)
    with pytest.raises(SendAborted, match="DAILYPAPERS_SMTP_URL"):
        send_edition(papers, settings, edition)
    with papers.read() as connection:
        assert sql.statuses(connection, edition.name) == {"due": 1}


def test_the_pacer_spaces_messages_at_the_rate() -> None:
    slept: list[float] = []
    pacer = Pacer(10.0, sleep=slept.append)
    start = pacer.next_at
    for _ in range(5):
        pacer.wait()
    assert pacer.next_at - start >= 0.5 - 1e-9
    assert len(slept) >= 3  # the calls came faster than 10 a second: it asked to sleep


@pytest.fixture
def on_disk(papers: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", papers.url)
    get_settings.cache_clear()
    yield papers


def test_the_commands(on_disk: Store, server: SmtpServer, cli: CliRunner) -> None:
    added = cli.invoke(cli_app, ["subscribers", "add", "a@example.org", "--confirmed"])
    assert added.exit_code == 0 and "added, confirmed, daily" in added.stdout
    cli.invoke(cli_app, ["subscribers", "add", "w@example.org", "--frequency", "weekly",
                         "--category", "cs.CL"])  # fmt: skip
    assert cli.invoke(cli_app, ["subscribers", "add", "bad", "--confirmed"]).exit_code == 2
    listed = cli.invoke(cli_app, ["subscribers", "list"]).stdout.splitlines()
    assert listed == [
        "a@example.org\tdaily\tall\tconfirmed",
        "w@example.org\tweekly\tcs.CL\tpending",
    ]
    exported = cli.invoke(cli_app, ["subscribers", "export"]).stdout.splitlines()
    assert exported[0].startswith("email,frequency,categories,status") and len(exported) == 3
    args = ["mail", "send", "--date", "2026-06-12"]
    assert "would send to 1" in cli.invoke(cli_app, [*args, "--dry-run"]).stdout
    sent = cli.invoke(cli_app, args)
    assert sent.exit_code == 0 and "queued 1; 1 sent" in sent.stdout
    again = cli.invoke(cli_app, args)
    assert again.exit_code == 0 and "queued 0; 0 sent" in again.stdout
    assert len(server.received) == 1
    assert cli.invoke(cli_app, ["subscribers", "remove", "a@example.org"]).exit_code == 0
    assert cli.invoke(cli_app, ["subscribers", "remove", "a@example.org"]).exit_code == 1


def test_two_senders_at_once_send_each_mail_once(server: SmtpServer, papers: Store) -> None:
    _subscribe(papers, *(f"r{number}@example.org" for number in range(60)))
    edition = _edition(papers)
    reports: list[dict[str, int]] = []

    def run(owner: str) -> None:
        reports.append(send_edition(papers, get_settings(), edition, owner=owner).counts)

    senders = [threading.Thread(target=run, args=(f"sender{n}",)) for n in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert sum(counts.get("sent", 0) for counts in reports) == 60
    per_address = Counter(r.recipients[0] for r in server.received)
    assert len(per_address) == 60 and set(per_address.values()) == {1}


def test_the_worker_job_sends_the_newest_day_once(server: SmtpServer, papers: Store) -> None:
    from dailypapers.digest.jobs import DIGEST, send_digests_job
    from dailypapers.store.jobs import add_run, claim_run
    from dailypapers.worker.context import JobContext

    _subscribe(papers, "a@example.org")
    _subscribe(papers, "w@example.org", frequency="weekly")
    counts = []
    for _run in range(2):
        with papers.write() as connection:
            add_run(connection, DIGEST, utc_now(precise=True))
            run = claim_run(connection, "test", [DIGEST], now=utc_now() + timedelta(seconds=1),
                            lease=timedelta(minutes=1), max_attempts=3)  # fmt: skip
        assert run is not None
        counts.append(send_digests_job(JobContext(papers, get_settings(), run)))
    # The newest day with papers is 2026-06-12; last week (by today's clock) has none.
    assert counts == [{"daily_sent": 1}, {}]
    assert [r.recipients[0] for r in server.received] == ["a@example.org"]
