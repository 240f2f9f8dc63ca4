"""Done-when of the content editors' issues, against the running bot: an editor logs in
(headless Chromium) and changes an answer; patients keep the old text while it is a
draft; once a clinician approves it on the page, they get the new text over REST, the
web chat and SMS within 5 seconds, with no retraining or restart; a rollback is
approved the same way. An answer file edited on disk so that it fails a check: the bot
keeps the last good text and the editor's page shows the failure. Also: a refused save,
the report page, and the bot answering while the content service hangs."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import yaml
from conftest import EDITOR
from test_sms import Phone
from test_web import ask, bot_texts, browser, open_chat  # noqa: F401 - browser is a fixture

QUESTION = "How long does it take?"
NEW_WEB = "The X-ray part takes about 15 minutes. Plan to be at the clinic for about an hour."
NEW_SMS = "The X-ray part takes about 15 minutes. Plan on about an hour at the clinic."
CLINICIAN = ("test.clinician", "test-clinician-password")


def logged_in(browser, bot, who):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(bot.content_url + "/editor")
    assert "/editor/login" in page.url  # never open without a login
    page.get_by_label("Name").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as " + who[0]).wait_for()
    return page


@pytest.fixture()
def editor_page(browser, bot):
    page = logged_in(browser, bot, EDITOR)
    yield page
    page.context.close()


@pytest.fixture()
def clinician_page(browser, bot):
    from editor.accounts import set_password

    set_password(*CLINICIAN, path=Path(bot.env["HSG_EDITORS_FILE"]), role="clinician")
    page = logged_in(browser, bot, CLINICIAN)
    yield page
    page.context.close()


def open_answer(page, name):
    page.get_by_role("button", name=name, exact=True).click()
    page.get_by_role("heading", name=name).wait_for()


def rest_text(bot, question=QUESTION):
    return bot.texts("editor-live-" + str(time.monotonic_ns()), question)[0]


def wait_for_rest_text(bot, expected, seconds=5.0):
    start = time.monotonic()
    while True:
        text = rest_text(bot)
        if text == expected or time.monotonic() - start > seconds:
            return text, time.monotonic() - start
        time.sleep(0.2)


def approve_on_page(page, name, version):
    open_answer(page, name)
    page.get_by_role("button", name=f"Approve version {version} (it goes live)").click()
    page.get_by_text("Approved: version").wait_for()


def test_an_edit_is_live_only_once_a_clinician_approves_it_then_within_5_seconds_everywhere(
    editor_page, clinician_page, browser, bot
):
    page = editor_page
    before_web = rest_text(bot)
    before_sms = Phone(bot).text(QUESTION)[0]
    open_answer(page, "utter_faq/duration")
    assert page.get_by_label("Text").first.input_value() == before_web
    page.locator("#web-text").fill(NEW_WEB)
    page.locator("#sms-text").fill(NEW_SMS)
    page.get_by_label("What did you change?").fill("exam length from the clinic's page")
    page.locator("#sms-meter").get_by_text("segment").wait_for()
    page.get_by_role("button", name="Save as a draft").click()
    page.get_by_text("Saved as draft version 2").wait_for()
    time.sleep(3)  # longer than the bot's 2 s poll: a draft never reaches patients
    assert rest_text(bot) == before_web and Phone(bot).text(QUESTION)[0] == before_sms
    approve_on_page(clinician_page, "utter_faq/duration", 2)
    saved_at = time.monotonic()
    try:
        text, _ = wait_for_rest_text(bot, NEW_WEB)
        assert text == NEW_WEB
        assert NEW_SMS in Phone(bot).text(QUESTION)[0]
        chat = browser.new_context().new_page()
        chat.goto(bot.web_url + "/")
        open_chat(chat)
        ask(chat, QUESTION)
        assert NEW_WEB in bot_texts(chat)[-1]
        chat.context.close()
        assert time.monotonic() - saved_at < 5, "the edit took longer than 5 s to reach every channel"
        history = clinician_page.locator("#history tr")
        assert history.count() == 3 and CLINICIAN[0] in history.first.inner_text()
        assert "approved" in history.first.inner_text() and EDITOR[0] in history.nth(1).inner_text()
    finally:
        page.reload()  # the editor's page still shows version 2: reload to see the approval
        open_answer(page, "utter_faq/duration")
        page.get_by_role("button", name="Roll back to version 1").click()
        page.get_by_text("saved as draft version 4").wait_for()
        approve_on_page(clinician_page, "utter_faq/duration", 4)
    text, seconds = wait_for_rest_text(bot, before_web)
    assert text == before_web and seconds < 5
    assert Phone(bot).text(QUESTION)[0] == before_sms


def test_the_editor_page_refuses_a_save_that_fails_a_check(editor_page, bot):
    page = editor_page
    before = rest_text(bot)
    open_answer(page, "utter_faq/duration")
    page.locator("#web-text").fill("The exam is guaranteed to take 15 minutes.")
    page.locator("#sms-text").fill("It takes 15 minutes. " * 20)
    page.get_by_role("button", name="Save as a draft").click()
    page.get_by_text("not saved: fix the problems below first").wait_for()
    problems = page.locator("#problems li").all_inner_texts()
    assert any("promises an outcome" in p for p in problems), problems
    assert any("SMS segments" in p for p in problems), problems
    assert rest_text(bot) == before


def test_live_checks_show_grade_and_segments_while_typing(editor_page):
    page = editor_page
    open_answer(page, "utter_faq/duration")
    page.locator("#web-text").fill(
        "Notwithstanding considerable interindividual variability, procedural "
        "discomfort predominantly manifests as transient contractility."
    )
    page.locator("#problems").get_by_text("reading grade").wait_for()
    assert "Reading grade" in page.locator("#web-meter").inner_text()
    assert "SMS segment" in page.locator("#sms-meter").inner_text()


def test_the_report_lists_what_the_bot_could_not_answer_for_logged_in_editors_only(editor_page, browser, bot):
    question = "qwv zzkp flarb vorn"
    for variant in (question, question.upper() + "!"):  # the same words: one group of 2
        bot.say("report-" + str(time.monotonic_ns()), variant)
    page = editor_page
    page.get_by_role("link", name="What patients asked").click()
    page.locator("#groups tr").first.wait_for()
    rows = page.locator("#groups tr").all_inner_texts()
    assert any(row.startswith("2") and question in row.lower() for row in rows), rows
    anonymous = browser.new_context().new_page()
    anonymous.goto(bot.content_url + "/editor/report")
    assert "/editor/login" in anonymous.url and question not in anonymous.content()
    anonymous.context.close()
    assert question not in bot.logs()


def wait_for_log(bot, words, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(word in bot.logs() for word in words):
            return True
        time.sleep(0.2)
    return False


def test_the_bot_keeps_answering_while_the_content_service_hangs(bot):
    """Replies never wait on the content service (the bot renders from its own copy), so
    a frozen service changes nothing for patients; the bot's next poll notices it (one
    warning), and notices again when it answers."""
    pids = bot.running.server_pids()["content"]
    assert pids, "the content service is not running"
    expected = rest_text(bot)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        assert rest_text(bot) == expected
        assert wait_for_log(bot, ["did not answer", "answering from"])
        assert rest_text(bot) == expected  # still answering, from the copy
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert wait_for_log(bot, ["answers again"])
    assert rest_text(bot) == expected


def test_an_answer_can_be_found_by_its_words(editor_page):
    page = editor_page
    pain = page.get_by_role("button", name="utter_faq/pain", exact=True)
    duration = page.get_by_role("button", name="utter_faq/duration", exact=True)
    duration.wait_for()  # the list loads after the page
    page.get_by_label("Find an answer").fill("pinch or some pressure")
    duration.wait_for(state="hidden", timeout=5000)
    assert pain.is_visible()


def test_an_answer_file_edited_on_disk_to_fail_a_check_keeps_the_last_good_text(editor_page, bot):
    """The one gate (review M1): the bot keeps the last good text, the content service
    logs which check failed (not the text), and the editor's page shows the failure."""
    question, name = QUESTION, "utter_faq/duration"
    path = next(Path(bot.env["HSG_CONTENT_DIR"]).glob("answers/*/duration.yml"))
    original = path.read_text(encoding="utf-8")
    before = bot.texts("gate-" + str(time.monotonic_ns()), question)[0]
    answer = yaml.safe_load(original)
    bad = "The exam is guaranteed to take 15 minutes."
    answer["web"]["text"] = bad
    try:
        path.write_text(yaml.safe_dump(answer, allow_unicode=True), encoding="utf-8")
        failures, waited = [], time.monotonic()
        while not failures and time.monotonic() - waited < 10:
            time.sleep(0.5)
            listing = editor_page.request.get(bot.content_url + "/editor/api/answers").json()
            failures = [f for f in listing["gate_failures"] if f["answer"] == name]
        assert failures and "promise" in failures[0]["checks"] and failures[0]["serving"] == "last good"
        time.sleep(3)  # longer than the bot's 2 s poll
        assert bot.texts("gate-" + str(time.monotonic_ns()), question)[0] == before
        editor_page.reload()
        editor_page.get_by_text(f"The file of {name} fails its checks").wait_for()
        log = (bot.run_dir / "content.log").read_text(errors="replace")
        assert f"{name} fails its checks (" in log and bad not in log
    finally:
        path.write_text(original, encoding="utf-8")
