"""The editor page's Spanish version (headless Chromium against the content service in
this process, no bot): an editor sees and edits an answer's Spanish web and SMS text and
buttons (marked lang="es"), with live checks and the Spanish reading ease; saves them
with the English in one draft, which a bilingual clinician approves on the page; a
bilingual clinician's approval reviews the Spanish; and the page lists the answers
whose Spanish no bilingual clinician has reviewed yet."""

from __future__ import annotations

import time

import pytest
from test_content_service import APPROVER, EDITOR, service  # noqa: F401 - the fixture
from test_web import browser  # noqa: F401 - the fixture


def logged_in_page(browser, service, who, errors):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(service.url + "/editor")
    page.get_by_label("Name").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as " + who[0]).wait_for()
    return page


@pytest.fixture()
def page(browser, service):
    errors = []
    page = logged_in_page(browser, service, EDITOR, errors)
    yield page
    assert errors == []  # no script error on the page
    page.context.close()


@pytest.fixture()
def clinician_page(browser, service):
    errors = []
    page = logged_in_page(browser, service, APPROVER, errors)
    yield page
    assert errors == []
    page.context.close()


def open_answer(page, name):
    page.get_by_role("button", name=name, exact=True).click()
    page.get_by_role("heading", name=name).wait_for()


def test_an_editor_edits_and_saves_the_spanish_text_and_buttons(page, clinician_page, service):
    open_answer(page, "utter_faq/duration")
    english = service.store.answers()["utter_faq/duration"]["web"]
    spanish = service.store.answers()["utter_faq/duration"]["es"]
    web = page.get_by_label("Spanish text").first
    assert web.input_value() == spanish["web"]["text"] and web.get_attribute("lang") == "es"
    assert page.locator("#es-sms-text").input_value() == spanish["sms"]["text"]
    title = page.get_by_label("Spanish button 1 title")
    assert title.input_value() == spanish["web"]["buttons"][0]["title"] and title.get_attribute("lang") == "es"
    page.locator("#es-web-meter").get_by_text("Reading ease").wait_for()
    assert "at least 65" in page.locator("#es-web-meter").inner_text()
    new_web = "El examen dura unos 15 minutos. Cuente con una hora en la clínica."
    page.locator("#es-web-text").fill(new_web)
    page.locator("#es-sms-text").fill("El examen dura unos 15 minutos.")
    title.fill("¿Cuánto tiempo?")
    page.locator("#es-sms-meter").get_by_text("at most 4").wait_for()
    page.locator("#es-web-preview").get_by_text("Cuente con una hora").wait_for()
    page.get_by_label("What did you change?").fill("español más corto")
    assert page.locator("#decide").is_hidden()  # an editor gets no approve button
    page.get_by_text("(editor: you may write and submit drafts of answers)").wait_for()  # what the role may do
    page.get_by_text("Who may do what").click()
    page.get_by_text("bilingual_clinician: write drafts; approve or reject").wait_for()
    page.get_by_role("button", name="Save as a draft").click()
    page.get_by_text("Saved as draft version 2").wait_for()
    assert service.store.answers()["utter_faq/duration"]["es"] == spanish  # not live until approved
    page.get_by_text("it changes the Spanish: a bilingual clinician must approve it").wait_for()
    assert page.locator("#es-web-text").input_value() == new_web  # the form shows the draft
    open_answer(clinician_page, "utter_faq/duration")
    clinician_page.get_by_role("button", name="Approve version 2 (it goes live)").click()
    clinician_page.get_by_text("Approved: version 3 is live").wait_for()
    saved = service.store.answers()["utter_faq/duration"]
    assert saved["es"]["reviewed_by"] == APPROVER[0]
    assert saved["es"]["web"]["text"] == new_web and saved["es"]["sms"]["text"] == "El examen dura unos 15 minutos."
    assert saved["es"]["web"]["buttons"][0]["title"] == "¿Cuánto tiempo?"
    assert saved["web"] == english  # the English is as it was
    assert service.store.history("utter_faq/duration")[-2]["note"] == "español más corto"
    history = clinician_page.locator("#history tr")
    assert history.first.locator("td[lang=es]").inner_text().startswith("El examen dura")
    assert "approved" in history.first.inner_text() and "draft" in history.nth(1).inner_text()


def test_a_spanish_problem_is_shown_live_and_blocks_the_save(page, service):
    open_answer(page, "utter_faq/pain")
    before = service.store.path_of("utter_faq/pain").read_text()
    page.locator("#es-web-text").fill("La HSG le garantiza un embarazo.")
    page.locator("#problems").get_by_text("(Spanish web): it promises an outcome").wait_for()
    page.get_by_role("button", name="Save as a draft").click()
    page.get_by_text("not saved: fix the problems below first").wait_for()
    assert service.store.path_of("utter_faq/pain").read_text() == before


def test_a_bilingual_clinicians_approval_reviews_the_spanish_and_the_list_shows_what_is_not(clinician_page, service):
    page = clinician_page
    assert not service.store.answers()["utter_faq/duration"]["es"].get("reviewed_by")
    page.get_by_text("Spanish answer(s) not yet reviewed by a bilingual clinician").wait_for()
    duration = page.get_by_role("button", name="utter_faq/duration", exact=True)
    page.get_by_label("Only answers whose Spanish is not yet reviewed").check()
    assert duration.is_visible()
    page.get_by_label("Show").select_option("never")
    page.get_by_label("in", exact=True).select_option("es")
    assert duration.is_visible()
    open_answer(page, "utter_faq/duration")
    page.get_by_text("The live Spanish was never approved by a bilingual clinician.").wait_for()
    page.get_by_role("button", name="Approve the live version again (a new review)").click()
    page.get_by_text("Approved: version").wait_for()
    answer = service.store.answers()["utter_faq/duration"]
    assert answer["es"]["reviewed_by"] == APPROVER[0] and answer["es"]["reviewed_on"] == time.strftime("%Y-%m-%d")
    page.get_by_text(f"The live Spanish was last approved by {APPROVER[0]}").wait_for()
    assert page.get_by_role("button", name="utter_faq/duration", exact=True).is_hidden()  # filtered out now
    page.get_by_label("Show").select_option("")
    page.get_by_label("Only answers whose Spanish is not yet reviewed").uncheck()
    assert page.get_by_role("button", name="utter_faq/duration", exact=True).is_visible()
