"""Done-when of the content editors' issue, against the running bot: an editor logs in
(headless Chromium), changes an answer, and patients get the new text over REST, the
web chat and SMS within 5 seconds, with no retraining or restart; then one click rolls
it back. Also: a refused save, the report page, and the bot answering while the
content service hangs."""

from __future__ import annotations

import os
import signal
import time

import pytest
from conftest import EDITOR
from test_sms import Phone
from test_web import ask, bot_texts, browser, open_chat  # noqa: F401 - browser is a fixture

QUESTION = "How long does it take?"
NEW_WEB = "The X-ray part takes about 15 minutes. Plan to be at the clinic for about an hour."
NEW_SMS = "The X-ray part takes about 15 minutes. Plan on about an hour at the clinic."


@pytest.fixture()
def editor_page(browser, bot):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(bot.content_url + "/editor")
    assert "/editor/login" in page.url  # never open without a login
    page.get_by_label("Name").fill(EDITOR[0])
    page.get_by_label("Password").fill(EDITOR[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as " + EDITOR[0]).wait_for()
    yield page
    context.close()


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


def test_an_edit_reaches_rest_web_chat_and_sms_within_5_seconds_then_rolls_back(editor_page, browser, bot):
    page = editor_page
    before_web = rest_text(bot)
    before_sms = Phone(bot).text(QUESTION)[0]
    open_answer(page, "utter_faq/duration")
    assert page.get_by_label("Text").first.input_value() == before_web
    page.locator("#web-text").fill(NEW_WEB)
    page.locator("#sms-text").fill(NEW_SMS)
    page.get_by_label("What did you change?").fill("exam length from the clinic's page")
    page.locator("#sms-meter").get_by_text("segment").wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved as version 2").wait_for()
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
        history = page.locator("#history tr")
        assert history.count() == 2 and EDITOR[0] in history.first.inner_text()
    finally:
        page.get_by_role("button", name="Roll back to version 1").click()
        page.get_by_text("Rolled back: version 1 is live again").wait_for()
    text, seconds = wait_for_rest_text(bot, before_web)
    assert text == before_web and seconds < 5
    assert Phone(bot).text(QUESTION)[0] == before_sms


def test_the_editor_page_refuses_a_save_that_fails_a_check(editor_page, bot):
    page = editor_page
    before = rest_text(bot)
    open_answer(page, "utter_faq/duration")
    page.locator("#web-text").fill("The exam is guaranteed to take 15 minutes.")
    page.locator("#sms-text").fill("It takes 15 minutes. " * 20)
    page.get_by_role("button", name="Save").click()
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
