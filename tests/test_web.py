"""The web chat on the demo clinic page, in headless Chromium (Debian's package)
driven by Playwright, against the running bot (frozen today: 2026-11-27).
English unless a test says otherwise; the Spanish tests are at the end."""

from __future__ import annotations

import re

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, bot):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="en-US")
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


def test_a_rate_limited_message_gets_the_wait_text_in_the_chats_language(page, domain, words):
    """The bot answers 429 past its rate limit (components/channels.py): the chat says to
    wait a minute or call (content/widget_text.yml `busy`, with the emergency number), not
    "can't be reached", in English or Spanish, and Try again sends the message once the
    limit has passed."""
    import json

    def too_many(route):
        if route.request.method != "POST":
            return route.continue_()
        body = {"error": "too_many_requests", "retry_after": 6, "messages": []}
        headers = {"Retry-After": "6", "Access-Control-Allow-Origin": "*"}  # as the bot's own 429 (CORS)
        route.fulfill(status=429, headers=headers, content_type="application/json", body=json.dumps(body))

    open_chat(page)
    for language, question, response in (
        ("en", "what is the balloon for", "utter_faq/balloon"),
        ("es", "¿para qué es el globito?", "utter_faq/balloon"),
    ):
        if language == "es":
            switch_to(page, "Español")
        page.route("**/webhooks/rest/webhook", too_many)
        page.get_by_label(words[language]["input_label"]).fill(question)
        page.get_by_label(words[language]["input_label"]).press("Enter")
        page.get_by_role("alert").wait_for()
        alert = page.get_by_role("alert").inner_text()
        assert words[language]["busy"] in alert and words[language]["error"] not in alert
        assert "911" in alert
        page.unroute("**/webhooks/rest/webhook")
        count = page.locator(".hsg-bot").count()
        page.get_by_role("button", name=words[language]["try_again"]).click()
        page.get_by_role("alert").wait_for(state="hidden")
        page.wait_for_function(f"document.querySelectorAll('.hsg-bot').length > {count}")
        assert said_in(bot_texts(page)[-1], domain, response, language)


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


@pytest.mark.parametrize(
    "width,height,locale",
    [
        (360, 740, "en-US"),
        (640, 450, "en-US"),  # a phone; 200% zoom
        (360, 740, "es-MX"),
    ],
)  # longer Spanish words
def test_fits_small_screens_and_zoom(browser, bot, width, height, locale):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.goto(bot.web_url + "/")
    page.locator(".hsg-launcher").click()
    page.locator(".hsg-bot").first.wait_for()
    box = page.locator(".hsg-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for button in page.locator(".hsg-header button").all():  # the header's two rows stay inside the panel
        b = button.bounding_box()
        assert b["x"] >= box["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 1
    page.locator("#hsg-input").fill("hi")
    send = page.locator(".hsg-send").bounding_box()
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).className",
        [send["x"] + send["width"] / 2, send["y"] + send["height"] / 2],
    )
    assert on_top == "hsg-send"  # nothing (such as the launcher) covers the Send button
    context.close()


# ---- Spanish: the English/Español switch, a Spanish browser, the calendar and axe

SPANISH_PAGE_TITLE = "¿Preguntas sobre su HSG?"  # the demo page's title_es (web/static/index.html)
ENGLISH_PAGE_TITLE = "Questions about your HSG?"  # its title
# Every interface text of the widget with the language it is marked with (the nearest
# lang) and whether it is shown: text nodes, and the words in aria-label, placeholder,
# title and download. Not the messages: their words, the "Assistant says:" before them
# and their answer buttons are in the language they were written in (their own lang),
# which the tests check apart; a calendar in a message is interface (it follows the chat).
INTERFACE_TEXTS = """root => {
  const out = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  const message = el => !!el.closest('.hsg-msg, .hsg-buttons') && !el.closest('.hsg-calendar');
  for (let node = walker.currentNode; node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim(), parent = node.parentElement;
      if (text && !message(parent)) out.push([text, parent.closest('[lang]').lang, parent.checkVisibility()]);
    } else if (!message(node)) {
      for (const name of ['aria-label', 'placeholder', 'title', 'download']) {
        const value = (node.getAttribute(name) || '').trim();
        if (value) out.push([value, node.closest('[lang]').lang, false]);
      }
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def words(bot):
    """The widget's words as the server gives them (content/widget_text.yml, settings filled in)."""
    return requests.get(bot.web_url + "/widget-text.json", timeout=10).json()


def interface_words(words, language):
    """{place: word} of the interface in a language (not the diagram, which is a picture,
    nor patterns such as "{month} {year}", nor the switch's own language names)."""

    def flat(value, prefix=""):
        if isinstance(value, dict):
            return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}{key}.").items()}
        if isinstance(value, list):
            return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{prefix}{i}.").items()}
        return {prefix[:-1]: value}

    return {
        key: value
        for key, value in flat(words[language]).items()
        if not key.startswith("diagram.") and key != "language_name" and "{" not in value
    }


def found(word, text):
    """The interface word is (in) this text: the whole text for short words ("Su"), else as words."""
    return text == word or (len(word) > 2 and re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text))


def texts_in(page, language):
    return [text for text, lang, _ in page.locator("#hsg-chat").evaluate(INTERFACE_TEXTS) if lang == language]


def left_over(page, words, shown, other):
    """Words of the `other` language's interface still found in what is marked as `shown`."""
    return sorted(
        {
            (word, text)
            for text in texts_in(page, shown)
            for word in interface_words(words, other).values()
            if found(word, text)
        }
    )


def variants(domain, name, language):
    """The built web texts of a response in a language (Spanish: the variants with the
    `language` slot condition that editor/store.py gives them)."""

    def spanish(v):
        return any(c.get("name") == "language" and c.get("value") == "es" for c in v.get("condition") or [])

    return [
        v["text"]
        for v in domain["responses"][name]
        if not v.get("channel") and spanish(v) == (language == "es") and v.get("text")
    ]


def said_in(bubble_text, domain, name, language):
    return any(text[:50] in bubble_text for text in variants(domain, name, language))


def chat_language(page):
    return page.evaluate("[document.getElementById('hsg-chat').lang, document.getElementById('hsg-panel').lang]")


def to_bot(request):
    """A message to the bot (not a CORS preflight)."""
    return request.method == "POST" and request.url.endswith("/webhooks/rest/webhook")


def switch_to(page, name, key=None):
    """Presses English or Español (with the keyboard when `key` is given); returns the
    message the widget sent to the bot, after the bot's reply is shown."""
    bots, users = page.locator(".hsg-bot").count(), page.locator(".hsg-user").count()
    button = page.get_by_role("group", name=re.compile("^(Language|Idioma)$")).get_by_role("button", name=name)
    with page.expect_request(to_bot) as request:
        if key:
            button.focus()
            page.keyboard.press(key)
        else:
            button.click()
    page.wait_for_function(f"document.querySelectorAll('.hsg-bot').length > {bots}")
    page.locator(".hsg-typing").wait_for(state="hidden")
    assert page.locator(".hsg-user").count() == users  # no patient bubble for the switch
    return request.value.post_data_json["message"]


def test_the_switch_changes_every_interface_word_and_the_lang(page, words, domain):
    open_chat(page)
    ask(page, "what is the balloon for")  # a message with a picture, then the calendar below
    ask(page, "My period started Nov 20, when can I have the HSG?")
    ask(page, "it stopped on the 24th")
    page.locator(".hsg-calendar").wait_for()
    english, spanish = interface_words(words, "en"), interface_words(words, "es")
    before = page.locator("#hsg-chat").evaluate(INTERFACE_TEXTS)
    shown = {key for key, word in english.items() if any(found(word, text) for text, _, _ in before)}
    assert {
        "start_over",
        "send",
        "subtitle",
        "privacy",
        "input_placeholder",
        "calendar.add",
        "calendar.months.10",
        "calendar.weekdays_short.0",
    } <= shown
    visible_before = [text for text, _, visible in before if visible]

    assert switch_to(page, "Español") == '/choose_language{"language":"es"}'
    assert chat_language(page) == ["es", "es"]
    reply = page.locator(".hsg-bot").last
    assert reply.get_attribute("lang") == "es"
    assert said_in(reply.inner_text(), domain, "utter_language_chosen", "es")
    assert page.get_by_role("button", name="Español").get_attribute("aria-pressed") == "true"
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "false"
    after = page.locator("#hsg-chat").evaluate(INTERFACE_TEXTS)
    visible_after = [text for text, _, visible in after if visible]
    assert visible_after != visible_before
    missing = [key for key in shown if not any(found(spanish[key], text) for text, _, _ in after)]
    assert missing == [], f"not in Spanish after the switch: {missing}"
    assert left_over(page, words, "es", "en") == []  # no English interface word left
    assert ENGLISH_PAGE_TITLE not in texts_in(page, "es")
    assert page.locator(".hsg-launcher").inner_text() == SPANISH_PAGE_TITLE
    assert page.get_by_role("dialog").get_attribute("aria-label") == SPANISH_PAGE_TITLE
    # the messages keep the language they were written in; the calendar follows the chat
    assert page.locator(".hsg-bot").first.get_attribute("lang") == "en"
    assert page.locator(".hsg-calendar").get_attribute("lang") == "es"
    assert "lang=es" in page.locator(".hsg-calendar a").get_attribute("href")

    page.reload()  # the patient's choice is kept
    page.locator(".hsg-launcher").click()
    assert chat_language(page) == ["es", "es"]

    assert switch_to(page, "English", key="Space") == '/choose_language{"language":"en"}'  # keyboard only
    assert chat_language(page) == ["en", "en"]
    assert page.evaluate("document.activeElement.textContent") == "English"
    assert said_in(page.locator(".hsg-bot").last.inner_text(), domain, "utter_language_chosen", "en")
    assert left_over(page, words, "en", "es") == []
    assert page.locator(".hsg-launcher").inner_text() == ENGLISH_PAGE_TITLE


def test_a_spanish_browser_starts_in_spanish(browser, bot, words, domain):
    context = browser.new_context(locale="es-MX", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json["message"]) if to_bot(r) else None)
    page.goto(bot.web_url + "/")
    launcher = page.get_by_role("button", name=SPANISH_PAGE_TITLE)
    assert chat_language(page) == ["es", "es"]
    launcher.click()
    page.locator(".hsg-bot").first.wait_for()
    assert sent == ['/greet{"language":"es"}']
    greeting = page.locator(".hsg-bot").first
    assert greeting.get_attribute("lang") == "es"
    assert said_in(greeting.inner_text(), domain, "utter_greet", "es")
    assert page.get_by_role("button", name="Español").get_attribute("aria-pressed") == "true"
    assert page.get_by_label(words["es"]["input_label"]).is_visible()
    assert left_over(page, words, "es", "en") == []
    context.close()


def test_the_patients_choice_wins_over_the_browsers_language(browser, bot):
    context = browser.new_context(locale="es-MX")
    context.add_init_script("localStorage.setItem('hsg-chat-language', 'en')")
    page = context.new_page()
    page.goto(bot.web_url + "/")
    assert page.locator(".hsg-launcher").inner_text() == ENGLISH_PAGE_TITLE
    assert chat_language(page) == ["en", "en"]
    context.close()


@pytest.fixture()
def spanish_page(browser, bot):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="es-MX")
    page = context.new_page()
    page.goto(bot.web_url + "/")
    page.locator(".hsg-launcher").click()
    page.locator(".hsg-bot").first.wait_for()
    yield page
    context.close()


def spanish_ask(page, text, words):
    count = page.locator(".hsg-bot").count()
    page.get_by_label(words["es"]["input_label"]).fill(text)
    page.get_by_label(words["es"]["input_label"]).press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.hsg-bot').length > {count}")
    page.locator(".hsg-typing").wait_for(state="hidden")


# The period started 24 days before the frozen today (2026-11-27), so this cycle's days are
# past: the next cycle's estimate, 2026-12-07 to 12-10 (cycle days 7 to 10 from 12-01).
SPANISH_PERIOD = "¿Cuándo me puedo hacer el HSG? Mi regla empezó el 3 de noviembre y terminó el 7"


def test_spanish_period_date_shows_a_spanish_calendar_and_a_spanish_ics(spanish_page, words, settings):
    from icalendar import Calendar

    page, cal = spanish_page, words["es"]["calendar"]
    spanish_ask(page, SPANISH_PERIOD, words)
    calendar = page.locator(".hsg-calendar").last
    calendar.wait_for()
    assert calendar.get_attribute("lang") == "es"
    assert calendar.locator("caption").all_inner_texts() == [
        cal["month_caption"].format(month=cal["months"][11], year=2026)
    ]
    assert calendar.locator("th span[aria-hidden='true']").all_inner_texts() == cal["weekdays_short"]
    assert calendar.locator("td.hsg-window").all_inner_texts() == ["7", "8", "9", "10"]
    assert calendar.locator("td.hsg-window").first.get_attribute("aria-label") == f"7, {cal['window_day']}"
    legend = calendar.locator(".hsg-legend").inner_text()
    assert all(word in legend for word in (cal["window"], cal["bleeding"], cal["today"]))
    english = words["en"]["calendar"]
    assert not any(month in calendar.inner_text() for month in english["months"] + [english["add"], english["window"]])
    with page.expect_download() as info:
        calendar.get_by_role("link", name=cal["add"]).click()
    assert info.value.suggested_filename == cal["file_name"]
    event = Calendar.from_ical(open(info.value.path(), "rb").read()).walk("VEVENT")[0]
    assert str(event.get("summary")) == settings["web"]["calendar_title_es"]
    assert event.get("summary").params["LANGUAGE"] == "es"
    assert settings["clinic_phone"] in str(event.get("description"))
    assert (str(event.decoded("dtstart")), str(event.decoded("dtend"))) == ("2026-12-07", "2026-12-11")


def test_no_serious_accessibility_violations_in_spanish(spanish_page, words):
    from axe_playwright_python.sync_playwright import Axe

    page = spanish_page
    spanish_ask(page, SPANISH_PERIOD, words)
    page.locator(".hsg-calendar").wait_for()
    spanish_ask(page, "¿para qué sirve el globo?", words)
    page.locator(".hsg-diagram img").last.wait_for()
    assert chat_language(page) == ["es", "es"]
    assert page.locator(".hsg-diagram img").last.get_attribute("src").endswith("lang=es")
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not serious, results.generate_report()
