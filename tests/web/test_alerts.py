"""Saved-search alerts: matching new papers (every word, or meaning), recorded once per alert
and paper, "not interested" left out, filters, mailed once to a real SMTP server with why each
paper matched, a crash between claim and mark re-sending only after the lease, and the
commands. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dailypapers.alerts import service
from dailypapers.alerts.sending import send_alerts
from dailypapers.cli import app as cli_app
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store import alerts as sql
from dailypapers.store.batches import utc_now
from dailypapers.store.schema import alert_matches, not_interested, papers
from dailypapers.store.vectors import PendingPaper, save_vectors
from tests.support.accounts import make_user
from tests.support.smtp import SmtpServer
from tests.web.conftest import CAPTURE, FIXTURES

SITE = "https://papers.example.org"
EMPTY = {"category": [], "code": False, "sort": "relevance"}


def _before() -> datetime:
    return utc_now() - timedelta(minutes=5)


def _later() -> datetime:
    return utc_now() + timedelta(seconds=5)


@pytest.fixture
def site(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", SITE)
    monkeypatch.setenv("DAILYPAPERS_MAIL_RATE", "1000")
    get_settings.cache_clear()
    return store


def _harvest(store: Store, shared_data: Path) -> None:
    """The day's new papers arrive (after the alerts were saved)."""
    ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    ingest(store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))


def _alert(store: Store, user_id: int, query: str, **options: object) -> service.Alert:
    params = {**EMPTY, **options.pop("params", {})}  # type: ignore[dict-item]
    return service.save_alert(
        store,
        get_settings(),
        user_id,
        query,
        params,
        now=_before(),
        **options,  # type: ignore[arg-type]
    )


def _found(store: Store, alert_id: int) -> dict[str, str]:
    with store.read() as connection:
        return {row["paper_id"]: row["words"] for row in sql.matches_of(connection, alert_id)}


def test_keyword_alert_finds_new_papers_with_every_word_once(
    site: Store, shared_data: Path
) -> None:
    ada = make_user(site, "ada", confirmed=True)
    decoding = _alert(site, ada.id, "speculative decoding")
    loose = _alert(site, ada.id, "speculative banana")  # every word must be there
    _harvest(site, shared_data)
    first = service.run_alerts(site, get_settings(), now=_later())
    assert first.new == first.matches >= 1
    assert _found(site, decoding.id)["2606.12243"] == "speculative,decoding"
    assert _found(site, loose.id) == {}
    again = service.run_alerts(site, get_settings(), now=_later())
    assert again.new == 0 and again.papers == 0  # the watermark moved past them
    with site.read() as connection:
        assert sql.status_counts(connection, decoding.id) == {"due": first.new}


def test_papers_older_than_the_alert_are_not_sent(site: Store, shared_data: Path) -> None:
    _harvest(site, shared_data)
    ada = make_user(site, "ada", confirmed=True)
    alert = service.save_alert(site, get_settings(), ada.id, "sparse attention", EMPTY)
    report = service.run_alerts(site, get_settings(), now=_later())
    assert report.new == 0 and _found(site, alert.id) == {}


def test_not_interested_and_filters_leave_papers_out(site: Store, shared_data: Path) -> None:
    ada = make_user(site, "ada", confirmed=True)
    bob = make_user(site, "bob", confirmed=True)
    mine = _alert(site, ada.id, "sparse attention")
    theirs = _alert(site, bob.id, "sparse attention")
    elsewhere = _alert(site, bob.id, "sparse attention", params={"category": ["math.AG"]})
    _harvest(site, shared_data)
    with site.write() as connection:
        connection.execute(
            not_interested.insert().values(user_id=ada.id, paper_id="2606.13392",
                                           created_at=utc_now())
        )  # fmt: skip
    service.run_alerts(site, get_settings(), now=_later())
    assert "2606.13392" not in _found(site, mine.id)
    assert _found(site, theirs.id)["2606.13392"] == "sparse,attention"
    assert _found(site, elsewhere.id) == {}


def test_similar_papers_match_by_meaning_with_the_reason(site: Store, shared_data: Path) -> None:
    ada = make_user(site, "ada", confirmed=True)
    rng = np.random.default_rng(7)
    target = rng.normal(size=384).astype(np.float32)
    target /= np.linalg.norm(target)
    alert = _alert(site, ada.id, "zzqxv", embed=lambda _text: target)  # no paper has the word
    _harvest(site, shared_data)
    model = service.model_name(get_settings())
    with site.read() as connection:
        ids = sorted(sql.created_times(connection, ["2606.13392", "2606.12243"]))
    others = rng.normal(size=(1, 384)).astype(np.float32)
    vectors = np.vstack([target, others / np.linalg.norm(others)])
    with site.write() as connection:
        save_vectors(connection, model, [PendingPaper(pid, "", "", "h") for pid in ids], vectors)
    service.run_alerts(site, get_settings(), now=_later())
    with site.read() as connection:
        rows = sql.matches_of(connection, alert.id)
    assert [(row["paper_id"], row["words"]) for row in rows] == [(ids[0], "")]
    assert rows[0]["similarity"] == pytest.approx(1.0, abs=1e-4)


def test_email_alert_is_sent_once_with_why_it_matched(
    site: Store, shared_data: Path, mail_server: SmtpServer
) -> None:
    ada = make_user(site, "ada", confirmed=True)
    make_user(site, "unconfirmed", confirmed=False)
    alert = _alert(site, ada.id, "speculative decoding", name="Decoding")
    _alert(site, ada.id, "sparse attention", channel="feed")
    _harvest(site, shared_data)
    service.run_alerts(site, get_settings(), now=_later())
    report = send_alerts(site, get_settings())
    assert report.counts == {"sent": 1}
    [received] = mail_server.received
    assert received.recipients == ["ada@example.org"]
    message = mail_server.messages[0]
    assert "Decoding" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "matched: speculative, decoding" in text and f"{SITE}/papers/2606.12243" in text
    assert f"<{SITE}/alerts/unsubscribe?token=" in message["List-Unsubscribe"]
    assert "mailto:" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert send_alerts(site, get_settings()).counts == {}  # a second run sends nothing
    service.run_alerts(site, get_settings(), now=_later())
    assert send_alerts(site, get_settings()).counts == {} and len(mail_server.received) == 1
    with site.read() as connection:
        assert set(sql.status_counts(connection, alert.id)) == {"sent"}


def test_a_crash_between_claim_and_mark_resends_only_after_the_lease(
    site: Store, shared_data: Path, mail_server: SmtpServer
) -> None:
    ada = make_user(site, "ada", confirmed=True)
    alert = _alert(site, ada.id, "speculative decoding")
    _harvest(site, shared_data)
    service.run_alerts(site, get_settings(), now=_later())
    now = utc_now(precise=True)
    with site.write() as connection:  # a sender that claimed, then died
        claimed = sql.claim(connection, "dead", now=now, lease_until=now + timedelta(hours=1),
                            alerts_limit=10)  # fmt: skip
    assert {m.alert_id for m in claimed} == {alert.id}
    assert send_alerts(site, get_settings()).counts == {}  # its lease still holds
    with site.write() as connection:  # ... and now it has expired
        connection.execute(alert_matches.update().values(lease_until=now - timedelta(seconds=1)))
    assert send_alerts(site, get_settings()).counts == {"sent": 1}
    assert send_alerts(site, get_settings()).counts == {}
    assert len(mail_server.received) == 1


def test_alerts_run_command(site: Store, shared_data: Path, mail_server: SmtpServer) -> None:
    ada = make_user(site, "ada", confirmed=True)
    _alert(site, ada.id, "speculative decoding")
    _harvest(site, shared_data)
    with site.write() as connection:  # a run leaves the papers of its last 2 seconds for the next
        connection.execute(papers.update().values(created_at=utc_now() - timedelta(minutes=1)))
    runner = CliRunner()
    dry = runner.invoke(cli_app, ["alerts", "run", "--dry-run"])
    assert dry.exit_code == 0 and "would record" in dry.output and mail_server.received == []
    first = runner.invoke(cli_app, ["alerts", "run"])
    assert first.exit_code == 0, first.output
    assert "alert mails: 1 sent" in first.output
    second = runner.invoke(cli_app, ["alerts", "run"])
    assert "recorded 0 new" in second.output and "alert mails: 0 sent" in second.output
    assert len(mail_server.received) == 1


def test_a_run_gives_alerts_saved_without_a_model_their_vector(
    site: Store, shared_data: Path
) -> None:
    ada = make_user(site, "ada", confirmed=True)
    alert = _alert(site, ada.id, "zzqxv")  # saved while the site had no model
    assert not alert.has_vector
    _harvest(site, shared_data)
    target = np.zeros(384, dtype=np.float32)
    target[0] = 1.0
    model = service.model_name(get_settings())
    with site.write() as connection:
        save_vectors(connection, model, [PendingPaper("2606.13392", "", "", "h")], target[None, :])
    service.run_alerts(site, get_settings(), now=_later(), embed=lambda _text: target)
    assert service.alerts_of(site, ada.id)[0].has_vector
    assert _found(site, alert.id) == {"2606.13392": ""}


def test_three_bounced_alert_mails_stop_mail_to_the_address(
    site: Store, shared_data: Path, mail_server: SmtpServer
) -> None:
    ada = make_user(site, "ada", confirmed=True)
    alerts = [_alert(site, ada.id, "speculative decoding", name=f"A{n}") for n in range(4)]
    _harvest(site, shared_data)
    service.run_alerts(site, get_settings(), now=_later())
    mail_server.refuse["ada@example.org"] = "550 5.1.1 No such user"
    report = send_alerts(site, get_settings())
    assert report.counts == {"bounced": 3, "failed": 1}  # the fourth is not even tried
    assert mail_server.received == []
    with site.read() as connection:
        assert sql.bounced_mails(connection, ada.id) == 3
        last = sql.status_counts(connection, alerts[-1].id)
    assert set(last) == {"failed"}
