"""`make screenshots`: pictures of the web chat, the editor page and the report for the
README (docs/screenshots/).

Starts the assistant with a frozen today, has a short conversation in headless
Chromium (Debian's package, driven by Playwright) and saves phone- and desktop-sized
screenshots that include the calendar and the diagram, and the calendar in Spanish
(a browser set to Spanish, so the chat starts in Spanish); then the editor page, and the
report with a week of made-up traffic (scripts/demo_traffic.py) last week.
`.venv/bin/python scripts/screenshots.py report` makes only the report's picture.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.servers import start_bot

OUT = ROOT / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"phone": (360, 740), "desktop": (1280, 900)}
# (picture name, browser language, what the patient writes)
SCENES = [
    ("calendar", "en-US", ["My period started Nov 20, when can I have the HSG?", "it stopped on the 24th"]),
    ("diagram", "en-US", ["what is the balloon for"]),
    ("calendar-es", "es-MX", ["¿Cuándo me puedo hacer el HSG? Mi regla empezó el 20 de noviembre", "terminó el 24"]),
]


def converse(page, messages):
    for text in messages:
        count = page.locator(".hsg-bot").count()
        page.locator("#hsg-input").fill(text)  # its label is in the chat's language
        page.locator("#hsg-input").press("Enter")
        page.wait_for_function(f"document.querySelectorAll('.hsg-bot').length > {count}")
        page.locator(".hsg-typing").wait_for(state="hidden")
    page.wait_for_timeout(300)


def editor_screenshot(browser, bot) -> None:
    """The editor page with an answer open and a check failing, for the editor's guide."""
    from editor.accounts import set_password

    set_password("nurse.kim", "screenshot-password", Path(bot.env["HSG_EDITORS_FILE"]))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(bot.content_url + "/editor")
    page.get_by_label("Name").fill("nurse.kim")
    page.get_by_label("Password").fill("screenshot-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="utter_faq/duration", exact=True).click()
    page.get_by_role("heading", name="utter_faq/duration").wait_for()
    text = page.locator("#web-text")
    text.fill("It is guaranteed to be quick. " + text.input_value())
    page.locator("#problems li").first.wait_for()
    path = OUT / "editor.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path.relative_to(ROOT)}")
    page.close()


def report_screenshot(browser, bot) -> None:
    """The report with a week of made-up traffic, its charts and the unanswered messages."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from common.settings import load_settings
    from editor.accounts import set_password
    from scripts.demo_traffic import seed, week_start

    zone = ZoneInfo(load_settings()["time_zone"])
    monday = week_start(datetime.now(zone).date())  # last week, in the clinic's time zone
    seed(Path(bot.env["HSG_TRACKER_DB"]), Path(bot.env["HSG_REPORT_DB"]), monday, zone.key)
    set_password("nurse.kim", "screenshot-password", Path(bot.env["HSG_EDITORS_FILE"]))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(bot.content_url + "/editor/report")
    page.get_by_label("Name").fill("nurse.kim")
    page.get_by_label("Password").fill("screenshot-password")
    page.get_by_role("button", name="Log in").click()
    page.locator("figure#figure-channels").wait_for()
    page.locator("figure#figure-messages summary").click()  # one table of numbers open
    path = OUT / "report.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path.relative_to(ROOT)}")
    page.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    only_report = sys.argv[1:] == ["report"]

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        bot = start_bot(
            Path(tmp), 5305, 5355, "shots-" + uuid.uuid4().hex, web_port=8305, extra_env={"HSG_TODAY": "2026-11-27"}
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
                for name, (width, height) in ({} if only_report else VIEWPORTS).items():
                    for scene, locale, messages in SCENES:
                        page = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
                        page.goto(bot.web_url + "/")
                        page.locator(".hsg-launcher").click()
                        page.locator(".hsg-bot").first.wait_for()
                        converse(page, messages)
                        target = page.locator(".hsg-calendar, .hsg-diagram").last
                        target.scroll_into_view_if_needed()
                        path = OUT / f"{name}-{scene}.png"
                        page.screenshot(path=str(path))
                        print(f"wrote {path.relative_to(ROOT)}")
                        page.close()
                if not only_report:
                    editor_screenshot(browser, bot)
                report_screenshot(browser, bot)
                browser.close()
        finally:
            bot.stop()


if __name__ == "__main__":
    main()
