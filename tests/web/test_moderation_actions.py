"""Moderators act through the site and every action lands in the audit log, which admins
alone read: suspending (signed out, votes uncounted) and restoring a user with a reason,
removing a submission, deciding a claim, and the command line's role changes and
suspensions."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dailypapers.accounts import service as accounts
from dailypapers.cli import app as cli_app
from dailypapers.community import claims
from dailypapers.community.votes import set_upvote
from dailypapers.discussion import moderation
from dailypapers.store import Store
from dailypapers.store.submissions import add_submission
from dailypapers.store.votes import upvotes_of
from tests.support.accounts import csrf_of, make_user, sign_in
from tests.web.test_claims import a_paper_and_author


def _post(client: TestClient, path: str, **data: str) -> int:
    answer = client.post(path, data={**data, "csrf_token": csrf_of(client)}, follow_redirects=False)
    return answer.status_code


def _local_upvotes(store: Store, paper_id: str) -> int:
    with store.read() as connection:
        counts = upvotes_of(connection, paper_id)
    assert counts is not None
    return counts[1]


def _log_rows(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>(.*?)</tr>", page, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_a_suspension_and_a_restore_with_reasons_are_logged_for_admins_only(
    client: TestClient, filled: Store
) -> None:
    paper_id, _ = a_paper_and_author(filled)
    grace = make_user(filled, "grace")
    before = _local_upvotes(filled, paper_id)
    set_upvote(filled, grace.id, paper_id, True)
    assert _local_upvotes(filled, paper_id) == before + 1
    graces = TestClient(client.app)
    sign_in(graces, filled, grace)
    assert graces.get("/settings").status_code == 200

    sign_in(client, filled, make_user(filled, "mod", role="moderator"))
    page = client.get("/moderation/users", params={"name": "grace"})
    assert page.status_code == 200 and "Not suspended" in page.text
    assert _post(client, "/moderation/users/grace/suspend") == 422  # a reason is required
    assert _post(client, "/moderation/users/grace/suspend", reason="spam links") == 303
    found = accounts.find_user(filled, "grace")
    assert found is not None and found.suspended
    assert _local_upvotes(filled, paper_id) == before  # the vote no longer counts
    assert graces.get("/settings", follow_redirects=False).status_code == 303  # signed out
    listed = client.get("/moderation/users").text
    assert 'href="/moderation/users?name=grace">grace</a> <span class="muted">since' in listed
    assert _post(client, "/moderation/users/grace/suspend", reason="again") == 409
    assert _post(client, "/moderation/users/mod/suspend", reason="me") == 422  # not yourself
    make_user(filled, "root", role="admin")
    assert _post(client, "/moderation/users/root/suspend", reason="no") == 403
    assert _post(client, "/moderation/users/nobody/suspend", reason="no") == 404
    assert _post(client, "/moderation/users/grace/restore", reason="appeal accepted") == 303
    found = accounts.find_user(filled, "grace")
    assert found is not None and not found.suspended
    assert "Nobody is suspended" in client.get("/moderation/users").text
    assert _local_upvotes(filled, paper_id) == before + 1  # counted again

    assert client.get("/moderation/log").status_code == 403  # moderators do not read it
    client.cookies.clear()
    sign_in(client, filled, grace)
    assert client.get("/moderation/log").status_code == 403
    client.cookies.clear()
    sign_in(client, filled, accounts.find_user(filled, "root"))  # type: ignore[arg-type]
    log = client.get("/moderation/log")
    assert log.status_code == 200 and "no-store" in log.headers["cache-control"]
    assert _log_rows(log.text) == [
        ["mod", "restore", "user grace", "appeal accepted"],
        ["mod", "suspend", "user grace", "spam links"],
    ]
    assert 'href="/moderation/log"' in client.get("/moderation").text


def test_removed_submissions_and_claim_decisions_are_logged(
    client: TestClient, filled: Store
) -> None:
    paper_id, name = a_paper_and_author(filled)
    ada, mod = make_user(filled, "ada"), make_user(filled, "mod", role="moderator")
    with filled.write() as connection:
        add_submission(connection, paper_id, ada.id, "read it", datetime(2026, 6, 12))
    claim = claims.claim_authorship(filled, ada, paper_id, name)
    sign_in(client, filled, mod)
    assert _post(client, f"/moderation/claims/{claim.id}", decision="reject") == 303
    assert _post(client, f"/moderation/submissions/{paper_id}/remove", reason="off topic") == 303
    assert _post(client, f"/moderation/submissions/{paper_id}/remove") == 404  # gone already
    entries, total = moderation.audit_page(
        filled, make_user(filled, "root", role="admin"), limit=10, offset=0
    )
    assert total == 2
    assert [(e.actor, e.action, e.target_type, e.reason) for e in entries] == [
        ("mod", "remove_submission", "paper", "off topic"),
        ("mod", "reject_claim", "claim", None),
    ]
    assert entries[0].href == f"/papers/{paper_id}"
    assert entries[1].target_label == f"{name} on {paper_id}"
    client.cookies.clear()
    sign_in(client, filled, ada)  # members cannot act
    assert _post(client, f"/moderation/claims/{claim.id}", decision="approve") == 403
    assert _post(client, "/moderation/users/mod/suspend", reason="x") == 403


def test_the_command_lines_role_changes_and_suspensions_are_logged(
    cli: CliRunner, sqlite_store: Store
) -> None:
    make_user(sqlite_store, "grace")
    assert cli.invoke(cli_app, ["users", "promote", "grace"]).exit_code == 0
    suspended = cli.invoke(cli_app, ["users", "suspend", "grace", "--reason", "abuse"])
    assert suspended.exit_code == 0, suspended.output
    again = cli.invoke(cli_app, ["users", "suspend", "grace"])
    assert again.exit_code == 2 and "already" in again.output
    admin = make_user(sqlite_store, "root", role="admin")
    entries, _ = moderation.audit_page(sqlite_store, admin, limit=10, offset=0)
    assert [(e.actor, e.action, e.target_label, e.reason) for e in entries] == [
        (moderation.CLI_ACTOR, "suspend", "grace", "abuse"),
        (moderation.CLI_ACTOR, "set_role", "grace", "user -> moderator"),
    ]


def test_the_audit_log_is_paged_newest_first(client: TestClient, filled: Store) -> None:
    admin = make_user(filled, "root", role="admin")
    with filled.write() as connection:
        for index in range(53):
            moderation.record(connection, admin, "dismiss", "report", index, reason=f"r{index}")
    sign_in(client, filled, admin)
    first, second = client.get("/moderation/log"), client.get("/moderation/log?p=1")
    assert [row[3] for row in _log_rows(first.text)][:2] == ["r52", "r51"]
    assert len(_log_rows(first.text)) == 50
    assert [row[3] for row in _log_rows(second.text)] == ["r2", "r1", "r0"]
    assert "Page 2 of 2" in second.text
    assert client.get("/moderation/log?p=-1").status_code == 422
