"""The web chat on the demo clinic page, in headless Chromium (Debian's package)
driven by Playwright, against the running bot (frozen today: 2026-11-27)."""
from __future__ import annotations

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, bot):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(bot.web_url + "/")
    yield page
    context.close()


def open_chat(page):
    page.get_by_role("button", name="Questions about your HSG?").click()
    page.locator(".hsg-bot").first.wait_for()


def ask(page, text):
    count = page.locator(".hsg-bot").count()
    page.get_by_label("Type your question").fill(text)
    page.get_by_label("Type your question").press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.hsg-bot').length > {count}")
    page.locator(".hsg-typing").wait_for(state="hidden")


def bot_texts(page):
    return page.locator(".hsg-bot").all_inner_texts()


def answer(domain, name):
    return domain["responses"][name][0]["text"]


def test_greeting_says_automated_and_a_question_gets_its_answer(page, domain):
    open_chat(page)
    assert "automated assistant" in bot_texts(page)[0]
    ask(page, "does the hsg hurt")
    assert answer(domain, "utter_faq/pain")[:60] in bot_texts(page)[-1]


def test_quick_reply_button(page, domain):
    open_chat(page)
    page.get_by_role("button", name="What is an HSG?").first.click()
    page.wait_for_function("document.querySelectorAll('.hsg-bot').length > 1")
    assert answer(domain, "utter_faq/what_is_hsg")[:60] in bot_texts(page)[-1]


def test_period_date_shows_calendar_and_a_valid_ics(page):
    from icalendar import Calendar

    open_chat(page)
    ask(page, "My period started Nov 20, when can I have the HSG?")
    ask(page, "it stopped on the 24th")
    calendar = page.locator(".hsg-calendar").last
    calendar.wait_for()
    assert calendar.locator("td.hsg-window").all_inner_texts() == ["27", "28", "29"]
    assert calendar.locator("td.hsg-today").all_inner_texts() == ["27"]
    assert calendar.locator("td.hsg-bleeding").all_inner_texts() == ["20", "21", "22", "23", "24"]
    with page.expect_download() as info:
        calendar.get_by_role("link", name="Add to calendar").click()
    event = Calendar.from_ical(open(info.value.path(), "rb").read()).walk("VEVENT")[0]
    assert (str(event.decoded("dtstart")), str(event.decoded("dtend"))) == ("2026-11-27", "2026-11-30")


def test_reload_and_new_tab_keep_the_conversation(page, domain):
    open_chat(page)
    ask(page, "how long does it take")
    page.reload()
    page.get_by_role("button", name="Questions about your HSG?").click()
    assert answer(domain, "utter_faq/duration")[:50] in " ".join(bot_texts(page))
    tab = page.context.new_page()
    tab.goto(page.url)
    tab.get_by_role("button", name="Questions about your HSG?").click()
    assert answer(domain, "utter_faq/duration")[:50] in " ".join(tab.locator(".hsg-bot").all_inner_texts())


def test_the_stored_history_is_capped(page, domain):
    """A long chat does not grow this browser's stored copy without end (web/static/widget.js keeps 200)."""
    old = [{"from": "user" if i % 2 else "bot", "text": f"old message {i}", "buttons": []} for i in range(400)]
    page.evaluate("h => localStorage.setItem('hsg-chat-history', JSON.stringify(h))", old)
    page.reload()
    open_chat(page)
    ask(page, "how long does it take")
    stored = page.evaluate("JSON.parse(localStorage.getItem('hsg-chat-history'))")
    assert len(stored) == 200
    assert answer(domain, "utter_faq/duration")[:50] in stored[-1]["text"]


def test_markup_is_shown_as_text_and_never_runs(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(page)
    ask(page, "<img src=x onerror=alert(1)>")
    assert page.locator(".hsg-user").last.inner_text().endswith("<img src=x onerror=alert(1)>")
    assert page.locator(".hsg-log img[src='x']").count() == 0
    ask(page, "how long does it take")  # a full round trip after the markup was shown
    assert dialogs == []


def test_error_and_retry_when_the_bot_is_unreachable(page, domain):
    open_chat(page)
    page.route("**/webhooks/rest/webhook", lambda route: route.abort())
    page.get_by_label("Type your question").fill("what is the balloon for")
    page.get_by_label("Type your question").press("Enter")
    page.get_by_role("alert").wait_for()
    assert "can't be reached" in page.get_by_role("alert").inner_text()
    page.unroute("**/webhooks/rest/webhook")
    page.get_by_role("button", name="Try again").click()
    page.get_by_role("alert").wait_for(state="hidden")
    page.wait_for_function("document.querySelectorAll('.hsg-bot').length > 1")
    assert answer(domain, "utter_faq/balloon")[:50] in bot_texts(page)[-1]


def test_diagram_with_alt_text_for_the_balloon_answer(page):
    open_chat(page)
    ask(page, "what is the balloon for")
    image = page.locator(".hsg-diagram img").last
    image.wait_for()
    assert "catheter" in image.get_attribute("alt")
    # the picture has loaded (not a broken image): wait for the browser to finish loading it
    image.evaluate("img => img.complete ? null : new Promise(done => { img.onload = img.onerror = done; })")
    assert image.evaluate("img => img.naturalWidth") > 0


def test_keyboard_only(page, domain):
    launcher = page.get_by_role("button", name="Questions about your HSG?")
    launcher.focus()
    page.keyboard.press("Enter")
    page.locator(".hsg-bot").first.wait_for()
    assert page.evaluate("document.activeElement.id") == "hsg-input"
    page.keyboard.type("how long does it take")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.hsg-bot').length > 1")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.className") == "hsg-launcher"


def test_no_serious_accessibility_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    open_chat(page)
    ask(page, "My period started Nov 20, when can I have the HSG?")
    ask(page, "it stopped on the 24th")
    ask(page, "what is the balloon for")
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, results.generate_report()


@pytest.mark.parametrize("width,height", [(360, 740), (640, 450)])  # a phone; 1280x900 at 200% zoom
def test_fits_small_screens_and_zoom(browser, bot, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(bot.web_url + "/")
    open_chat(page)
    box = page.locator(".hsg-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("Type your question").fill("hi")
    send = page.get_by_role("button", name="Send").bounding_box()
    on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).className",
                           [send["x"] + send["width"] / 2, send["y"] + send["height"] / 2])
    assert on_top == "hsg-send"  # nothing (such as the launcher) covers the Send button
    context.close()
