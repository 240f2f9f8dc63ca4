"""The editors' report as charts, in Chromium (Playwright): a content service of the
test's own reads a week of made-up traffic (scripts/demo_traffic.py) from a tracker
store SQLite file and a report SQLite file in a temp folder; an editor logs in, opens
the report, finds each chart with its caption, its SVG (role="img", a label, the
numbers drawn on the bars) and a table whose numbers are the seed's, ticks "Add as
training example" (then `make report` lists it), and axe finds no serious or critical
violation. Also: bad weeks and bad requests get a clear answer, not a crash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from http.server import ThreadingHTTPServer
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests
from conftest import EDITOR, ROOT
from test_web import browser  # noqa: F401 - a fixture

from common.settings import load_settings
from editor.accounts import Sessions, set_password
from editor.report import Report
from editor.report_traffic import week_label
from editor.service import ContentService, make_handler
from editor.store import FileContentStore
from scripts.demo_traffic import CONVERSATIONS, EXPECTED, MISSES, seed, week_start

WEEKLY = {  # figure id: the columns of its table (after the week), from the seed's expectations
    "messages": ["messages"],
    "fallbacks": [
        "fallback or out of scope",
        "guided choice offered",
        "a topic offered tapped",
        "Something else tapped",
    ],
    "urgent": ["urgent answers"],
    "languages": ["English", "Spanish"],
    "channels": ["web chat", "SMS"],
}


@pytest.fixture()
def charts_service(tmp_path, monkeypatch):
    """A content service on the test's own files, with the made-up week seeded last week."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    monkeypatch.setenv("HSG_EDITORS_FILE", str(tmp_path / "editors.json"))
    monkeypatch.setenv("HSG_TRACKER_DB", str(tmp_path / "tracker.sqlite3"))
    set_password(*EDITOR)
    zone = ZoneInfo(load_settings()["time_zone"])
    monday = week_start(datetime.now(zone).date())
    ids = seed(tmp_path / "tracker.sqlite3", tmp_path / "report.sqlite3", monday, zone.key)
    report = Report(tmp_path / "report.sqlite3", retention_days=30, low_confidence=0.6, max_rows_per_day=500)
    content = ContentService(FileContentStore(tmp_path / "content"), "token", Sessions("secret"), report)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(content))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        week=week_label(monday),
        ids=ids,
        report=report,
        report_db=tmp_path / "report.sqlite3",
    )
    server.shutdown()
    server.server_close()


def logged_in_page(browser, url, path):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.goto(url + path)
    assert "/editor/login" in page.url  # never open without a login
    page.get_by_label("Name").fill(EDITOR[0])
    page.get_by_label("Password").fill(EDITOR[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**" + path.split("?")[0] + "*")
    return page


def table_of(figure):
    """{row header: [cells]} of a figure's table, after opening its <details>."""
    figure.locator("details summary").click()
    table = figure.locator("table")
    table.wait_for()
    return {
        row.locator("th").inner_text(): [cell.inner_text() for cell in row.locator("td").all()]
        for row in table.locator("tbody tr").all()
    }


def check_weekly_figure(page, chart_id, columns, week):
    figure = page.locator(f"figure#figure-{chart_id}")
    assert figure.locator("figcaption").inner_text().strip()
    svg = figure.locator("svg[role=img]")
    assert svg.count() == 1 and svg.get_attribute("aria-label")
    drawn = [text.strip() for text in svg.locator("text").all_text_contents()]
    rows = table_of(figure)
    assert len(rows) == 8 and week in rows, rows  # the default period: the last 8 weeks
    assert [int(n) for n in rows[week]] == [EXPECTED[column] for column in columns], (chart_id, rows[week])
    for other, cells in rows.items():
        assert other == week or set(cells) == {"0"}, (chart_id, other, cells)
    for column in columns:  # each number is drawn on its bar (readable without colour)
        assert str(EXPECTED[column]) in drawn, (chart_id, column, drawn)
    header = figure.locator("thead th").all_inner_texts()
    assert header == ["week"] + columns


def test_the_report_shows_each_chart_with_its_table_and_axe_finds_nothing_serious(charts_service, browser):
    from axe_playwright_python.sync_playwright import Axe

    page = logged_in_page(browser, charts_service.url, "/editor/report")
    assert page.locator("#to").input_value() == datetime.now(ZoneInfo(load_settings()["time_zone"])).strftime("%G-W%V")
    for chart_id, columns in WEEKLY.items():
        check_weekly_figure(page, chart_id, columns, charts_service.week)
    topics = page.locator("figure#figure-topics")
    assert topics.locator("svg[role=img]").get_attribute("aria-label")
    rows = table_of(topics)
    totals = {name.rsplit("(", 1)[1].rstrip(")"): int(cells[-1]) for name, cells in rows.items()}
    assert totals == EXPECTED["topics"]
    assert list(totals) == sorted(totals, key=lambda key: -totals[key])  # asked most first
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, results.generate_report()
    page.context.close()


def test_unanswered_messages_newest_first_and_marked_for_a_developer(charts_service, browser):
    page = logged_in_page(browser, charts_service.url, "/editor/report")
    rows = page.locator("#messages tbody tr")
    expected = [CONVERSATIONS[number][2][turn][0] for number, turn, *_ in reversed(MISSES)]
    assert [row.locator("td").nth(1).inner_text() for row in rows.all()] == expected
    tubes = rows.filter(has_text="what happens with my tubes thing")
    tubes.get_by_label("Add as training example").check()
    page.get_by_text("Marked as a training example.").wait_for()
    marked = charts_service.report.messages(marked_only=True)
    assert [(row["text"], row["marked_by"]) for row in marked] == [("what happens with my tubes thing", EDITOR[0])]
    page.reload()
    assert (
        page.locator("#messages tbody tr").filter(has_text="tubes").get_by_label("Add as training example").is_checked()
    )
    page.context.close()
    printed = subprocess.run(
        [sys.executable, "scripts/report.py"],
        cwd=ROOT,
        env=dict(os.environ, HSG_REPORT_DB=str(charts_service.report_db)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert printed.returncode == 0, printed.stderr
    export = printed.stdout.split('Marked "add as training example"', 1)[1]
    assert "- intent: faq/abnormal_findings" in export and "    - what happens with my tubes thing" in export
    assert "qwv zzkp flarb" not in export  # not marked


def test_bad_weeks_and_bad_requests_get_a_clear_answer(charts_service):
    session = requests.Session()
    assert session.get(charts_service.url + "/editor/api/readiness").status_code == 401
    assert session.post(charts_service.url + "/editor/api/report/training", json={}).status_code == 401
    session.post(charts_service.url + "/editor/login", data={"name": EDITOR[0], "password": EDITOR[1]})
    page = session.get(charts_service.url + "/editor/report", params={"from": "next week", "to": "<b>"})
    assert page.status_code == 200 and "could not be read" in page.text and "<b>" not in page.text
    wide = session.get(charts_service.url + "/editor/report", params={"from": "2020-W01", "to": "2026-W10"})
    assert wide.status_code == 200 and "At most 26 weeks" in wide.text
    url = charts_service.url + "/editor/api/report/training"
    assert session.post(url, json={"message_id": "no-such-message", "marked": True}).status_code == 404
    assert session.post(url, json={"message_id": charts_service.ids[0], "marked": "yes"}).status_code == 400
    assert session.post(url, data="not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert session.post(url, json={"message_id": charts_service.ids[0], "marked": True}).json()["marked"] is True
    assert session.get(charts_service.url + "/editor/report").status_code == 200  # the next request works


PG_PORT, REDIS_PORT = 5673, 6613


def test_the_charts_and_the_training_marks_read_postgresql_too(monkeypatch):
    """The production profile: the conversations and the report in PostgreSQL."""
    import sqlalchemy as sa
    from conftest import local_services

    from common import pg
    from editor.report_traffic import weekly
    from scripts.demo_traffic import seed_postgresql

    with local_services("hsg-test-charts-", PG_PORT, REDIS_PORT) as running:
        for name, value in running["settings"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HSG_STORE", "postgresql")
        engine = pg.engine()
        zone = ZoneInfo(load_settings()["time_zone"])
        monday = week_start(datetime.now(zone).date())
        ids = seed_postgresql(engine, monday, zone.key)
        week = weekly(monday, monday, zone.key)[monday]
        assert (week.messages, week.urgent, week.guided_offered, week.guided_picked, week.something_else) == (
            EXPECTED["messages"], EXPECTED["urgent answers"], EXPECTED["guided choice offered"],
            EXPECTED["a topic offered tapped"], EXPECTED["Something else tapped"],
        )  # fmt: skip
        assert dict(week.topics) == EXPECTED["topics"]
        assert (week.languages["Spanish"], week.channels["SMS"]) == (EXPECTED["Spanish"], EXPECTED["SMS"])
        report = Report(retention_days=30, low_confidence=0.6, max_rows_per_day=500)
        assert report.engine is not None
        assert [row["message_id"] for row in report.messages()] == ids  # newest first
        assert report.mark(ids[1], True, EDITOR[0]) and not report.mark("no-such-message", True, EDITOR[0])
        assert [(row["text"], row["marked_by"]) for row in report.messages(marked_only=True)] == [
            ("the dye and my thyroid", EDITOR[0])
        ]
        assert report.mark(ids[1], False, EDITOR[0]) and report.messages(marked_only=True) == []
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT COUNT(*) FROM hsg_report_training")).scalar_one() == 0
        engine.dispose()


def test_a_conversation_store_that_cannot_be_read_gives_empty_charts_and_says_so(tmp_path, monkeypatch):
    import sqlite3

    from editor.report_page import report_html

    sqlite3.connect(tmp_path / "tracker.sqlite3").execute("CREATE TABLE other (a)")  # no events table yet
    monkeypatch.setenv("HSG_TRACKER_DB", str(tmp_path / "tracker.sqlite3"))
    template = (ROOT / "editor" / "static" / "report.html").read_text(encoding="utf-8")
    page = report_html(template, Report(tmp_path / "report.sqlite3", max_rows_per_day=500), {})
    assert "The stored conversations could not be read" in page
    assert page.count('role="img"') == 5 and "No topic was asked in these weeks." in page  # 5 charts of zeros
    assert "No unanswered message in these weeks." in page


def test_the_readiness_page_is_in_the_nav_and_axe_finds_nothing_serious(charts_service, browser):
    from axe_playwright_python.sync_playwright import Axe

    page = logged_in_page(browser, charts_service.url, "/editor")
    page.get_by_role("link", name="Go-live readiness").click()
    page.get_by_role("heading", name="Go-live readiness").wait_for()
    assert "stand between this install and patients" in page.locator("#summary").inner_text()
    assert page.locator("section.blocker").count() == 7
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, results.generate_report()
    page.context.close()
