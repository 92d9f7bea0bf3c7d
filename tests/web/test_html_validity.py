"""Every kind of page passes the W3C Nu HTML Checker (vnu.jar) without an error.

The real server (:func:`tests.support.site.served_site`, plus the 56 papers of an author
from the shared arXiv listing, so the author page has a second page) renders each template:
a day, a week, a month, trending, a paper, search with and without results, an author (both
pages: the pager's link holds the name), about, ranking, a 404, the account forms (log in,
sign up, reset, confirm); and, in process, a site with no papers yet and the pages of a
signed-in user (settings, a new token, a refused form, a profile), and with GitHub and ORCID
turned on the log-in page's buttons and a moderator's pages (settings, the claims' and the
submissions' queues, a submitter's profile; the reports' queue, the users page, a paper
with a hidden comment, a member's notifications, the audit log). The pages are saved and
checked in one ``java -jar vnu.jar`` run, as it starts slowly.

Needs Java (``apt-get install default-jre-headless``) and ``vnu.jar`` (``make install-test``
installs the npm package ``vnu-jar`` into ``tools/html-checker``). Without them the test is
skipped and says why, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts import service as accounts
from dailypapers.community import claims
from dailypapers.community.submissions import Submitter, submit
from dailypapers.discussion import collections, moderation
from dailypapers.discussion.comments import post_comment
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.paper import PaperRecord
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.web.app import create_app
from tests.support.accounts import csrf_of, make_user, sign_in
from tests.support.site import served_site, site_settings

ROOT = Path(__file__).resolve().parents[2]
VNU = ROOT / "tools" / "html-checker" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LISTING = "arxiv-daily-listings/papers.jsonl.gz"
AUTHOR = "Caiming Xiong"  # 56 papers in the listing: two author pages of 50
CHECK_SECONDS = 300
SAMPLE = ROOT / "tests" / "fixtures" / "snapshot_sample.jsonl"

PAGES = {
    "home": "/",
    "day": "/date/2026-06-12",
    "empty-day": "/date/2026-06-13",
    "week": "/week/2026-W24",
    "month": "/month/2026-06",
    "trending": "/trending?window=month",
    "paper": "/papers/2606.13681",
    "search": "/search?q=memory+agents",
    "search-filtered": "/search?q=memory&category=cs.CL&has_code=true",
    "search-nothing": "/search?q=qqxqzzvq",
    "search-empty": "/search",
    "author": f"/authors/{quote(AUTHOR)}",
    "author-page-2": f"/authors/{quote(AUTHOR)}?p=1",
    "about": "/about",
    "ranking": "/about/ranking",
    "not-found": "/papers/2999.99999",
    "login": "/login",
    "signup": "/signup",
    "forgot": "/password/forgot",
    "reset-bad-link": "/password/reset?token=nothing",
    "confirm": "/confirm?token=abc",
}
STATUS = {"not-found": 404, "reset-bad-link": 400}


def _checker() -> list[str]:
    """The command that runs vnu.jar, or a skip (a failure under CI) naming what is missing."""
    java = shutil.which("java")
    missing = []
    if java is None:
        missing.append("java (apt-get install default-jre-headless)")
    if not VNU.is_file():
        missing.append(f"{VNU.relative_to(ROOT)} (make install-test)")
    if missing:
        reason = "the W3C HTML checker needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert java is not None
    return [java, "-Xss4m", "-jar", str(VNU), "--format", "json", "--exit-zero-always"]


def _author_papers(shared_data: Path, target: Path) -> Path:
    """The listing records of :data:`AUTHOR`, as a JSON Lines file to ingest."""
    with gzip.open(shared_data / LISTING, "rt") as lines, open(target, "w") as out:
        for line in lines:
            if AUTHOR in line and AUTHOR in json.loads(line)["authors"]:
                out.write(line)
    return target


def _empty_site_page(data_dir: Path, models_dir: Path) -> str:
    settings = site_settings(data_dir, models_dir)
    store = open_store(settings.resolved_database_url)
    try:
        with TestClient(create_app(store, settings)) as client:
            response = client.get("/")
    finally:
        store.dispose()
    assert response.status_code == 200 and "No papers yet" in response.text
    return response.text


def _signed_in_pages(data_dir: Path, models_dir: Path) -> dict[str, str]:
    """The account pages a signed-in user sees, and forms answered with their errors."""
    settings = site_settings(data_dir, models_dir)
    store = open_store(settings.resolved_database_url)
    fetched = {}
    try:
        with TestClient(create_app(store, settings)) as client:
            csrf = csrf_of(client, "/login")
            fetched["login-failed"] = client.post(
                "/login", data={"login": "x", "password": "y", "csrf_token": csrf}
            ).text
            fetched["signup-refused"] = client.post(
                "/signup",
                data={"username": "<b>", "email": "a@b.c", "password": "p", "csrf_token": csrf},
            ).text
            user = make_user(store, "ada", fullname="Ada <Lovelace>", settings=settings)
            sign_in(client, store, user, settings)
            fetched["settings"] = client.get("/settings").text
            fetched["settings-token"] = client.post(
                "/settings/tokens", data={"name": "laptop", "csrf_token": csrf_of(client)}
            ).text
            fetched["settings-error"] = client.post(
                "/settings/password",
                data={"current_password": "no", "new_password": "x", "csrf_token": csrf_of(client)},
            ).text
            fetched["profile"] = client.get("/users/ada").text
    finally:
        store.dispose()
    assert "laptop" in fetched["settings-token"] and "Ada &lt;Lovelace&gt;" in fetched["profile"]
    return fetched


def _moderation_pages(data_dir: Path, models_dir: Path) -> dict[str, str]:
    """With GitHub and ORCID turned on: the log-in page's buttons; two submissions and a
    claim by a member whose name and note hold HTML; what a moderator sees of them (settings
    with its moderation links and identities, both queues, a queue after a removal) and the
    submitter's profile."""
    settings = site_settings(data_dir, models_dir).model_copy(update={
        "github_client_id": "site-id", "github_client_secret": "site-secret",
        "orcid_client_id": "APP-SITE", "orcid_client_secret": "site-secret",
        "submission_max_age_days": 100_000,
        # Comments are written through the service below, not the routes: a cached page would
        # show them only after the cache's next look at the store (2 s).
        "page_cache_mb": 0,
    })  # fmt: skip
    store = open_store(settings.resolved_database_url)
    records = [r for r in JsonLinesSource(SAMPLE) if isinstance(r, PaperRecord)]
    fetched = {}
    try:
        ada = make_user(store, "ada", fullname="Ada <b>Lovelace</b>", settings=settings)
        member = Submitter(ada.id, ada.username, ada.fullname, ada.confirmed)
        for record, note in zip(records[:2], ("<i>read</i> & see", ""), strict=True):
            submit(store, settings, member, record.arxiv_id, note, fetch=lambda *_, r=record: r)
        claims.claim_authorship(store, ada, records[0].arxiv_id, records[0].authors[0])
        with TestClient(create_app(store, settings)) as client:
            fetched["login-oauth"] = client.get("/login").text
            moderator = make_user(store, "mod", role="moderator", settings=settings)
            sign_in(client, store, moderator, settings)
            fetched["settings-moderator"] = client.get("/settings").text
            fetched["claims-queue"] = client.get("/moderation/claims").text
            fetched["submissions-queue"] = client.get("/moderation/submissions").text
            fetched["submissions-removed"] = client.post(
                f"/moderation/submissions/{records[1].arxiv_id}/remove",
                data={"csrf_token": csrf_of(client)},
            ).text
            fetched["profile-submitter"] = client.get("/users/ada").text
            fetched.update(_collection_pages(client, store, moderator.id, records[:1]))
            fetched.update(_reports_and_notifications(client, store, settings, records[0]))
    finally:
        store.dispose()
    assert 'href="/auth/orcid/login"' in fetched["login-oauth"]
    assert "Link GitHub" in fetched["settings-moderator"]
    assert '<a href="/users/ada">ada</a> claims to be' in fetched["claims-queue"]
    assert "&lt;i&gt;read&lt;/i&gt; &amp; see" in fetched["submissions-queue"]
    assert "Removed the submission" in fetched["submissions-removed"]
    return fetched


def _reports_and_notifications(
    client: TestClient, store: Store, settings: Settings, record: PaperRecord
) -> dict[str, str]:
    """A reported comment and a hidden one: the moderators' index, reports queue, users page,
    the paper page a moderator sees, the audit log (an admin), a member's notifications."""
    ada, bob = (accounts.find_user(store, name) for name in ("ada", "mod"))
    assert ada is not None and bob is not None
    top = post_comment(store, settings, ada, record.arxiv_id, "Look <b>here</b> @mod")
    reply = post_comment(store, settings, bob, record.arxiv_id, "Rude", parent_id=top.id)
    moderation.report(store, ada, reply.id, "rude <i>words</i>")
    hidden = post_comment(store, settings, ada, record.arxiv_id, "spam")
    moderation.hide(store, bob, hidden.id, "advertising & more")
    fetched = {
        "moderation-index": client.get("/moderation").text,
        "reports-queue": client.get("/moderation/reports").text,
        "moderation-users": client.get("/moderation/users?name=ada").text,
        "paper-moderator": client.get(f"/papers/{record.arxiv_id}").text,
        "notifications": client.get("/notifications").text,
    }
    client.cookies.clear()
    sign_in(client, store, make_user(store, "root", role="admin", settings=settings), settings)
    fetched["audit-log"] = client.get("/moderation/log").text
    assert "hidden: advertising &amp; more" in fetched["paper-moderator"]
    assert "rude &lt;i&gt;words&lt;/i&gt;" in fetched["reports-queue"]
    assert "advertising &amp; more" in fetched["audit-log"]
    return fetched


def _collection_pages(
    client: TestClient, store: Store, user_id: int, records: list[PaperRecord]
) -> dict[str, str]:
    """A member's collection pages, a card list with their controls, settings with a hidden
    paper (the client is signed in as ``user_id``)."""
    reading = collections.create_collection(store, user_id, "Reading <group>", public=True)
    for record in records:
        collections.add_paper(store, user_id, record.arxiv_id, reading.id, note="a <i>note</i>")
    collections.mark_not_interested(store, user_id, records[-1].arxiv_id)
    paper = records[0].arxiv_id
    return {
        "collection-owner": client.get("/users/mod/collections/reading-group").text,
        "collections": client.get("/collections").text,
        "collection-add": client.get(f"/collections/add?paper={paper}").text,
        "settings-not-interested": client.get("/settings").text,
        "paper-member": client.get(f"/papers/{paper}").text,
        "collection-public": TestClient(client.app)
        .get("/users/mod/collections/reading-group")
        .text,
    }


@pytest.fixture(scope="module")
def pages(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, shared_data: Path
) -> Iterator[dict[str, str]]:
    """Each page's HTML by name, fetched from the real server."""
    command = _checker()  # skip before building the site when the checker is missing
    folder = tmp_path_factory.mktemp("html-site")
    author = _author_papers(shared_data, folder / "author.jsonl")
    with served_site(shared_data, folder / "data", models_dir, [author]) as site:
        fetched = {}
        for name, path in PAGES.items():
            response = httpx.get(site + path, timeout=60)
            assert response.headers["content-type"].startswith("text/html"), path
            assert response.status_code == STATUS.get(name, 200), path
            fetched[name] = response.text
    fetched["empty-site"] = _empty_site_page(folder / "empty", models_dir)
    fetched.update(_signed_in_pages(folder / "accounts", models_dir))
    fetched.update(_moderation_pages(folder / "moderation", models_dir))
    fetched["__command__"] = json.dumps(command)
    yield fetched


def test_every_kind_of_page_is_valid_html(pages: dict[str, str], tmp_path: Path) -> None:
    command = json.loads(pages.pop("__command__"))
    files = []
    for name, html in pages.items():
        files.append(tmp_path / f"{name}.html")
        files[-1].write_text(html)
    run = subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, timeout=CHECK_SECONDS
    )
    report = json.loads(run.stderr or run.stdout)
    errors = [
        f"{Path(message.get('url', '?')).stem}:{message.get('lastLine', '?')}: "
        f"{message['message']} [{message.get('extract', '').strip()}]"
        for message in report["messages"]
        if message["type"] in ("error", "non-document-error")
    ]
    assert errors == [], "\n".join(errors)


def test_the_author_pager_links_an_encoded_name(pages: dict[str, str]) -> None:
    assert f'href="/authors/{quote(AUTHOR)}?p=1"' in pages["author"]
    assert f'href="/authors/{quote(AUTHOR)}?p=0"' in pages["author-page-2"]
