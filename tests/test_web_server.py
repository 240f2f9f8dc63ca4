"""The web server's calendar downloads (web/server.py)."""
from __future__ import annotations

from datetime import date

import pytest
import requests
from icalendar import Calendar


def test_ics_is_a_valid_all_day_event(bot, settings):
    response = requests.get(f"{bot.web_url}/calendar.ics", params={"start": "2026-12-30", "end": "2027-01-02"},
                            timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == date(2026, 12, 30) and event.decoded("dtend") == date(2027, 1, 3)
    assert settings["clinic_phone"] in str(event.get("description"))


@pytest.mark.parametrize("params", [
    {},                                                # nothing
    {"start": "2026-02-30", "end": "2026-03-02"},      # no such day
    {"start": "2026-12-10", "end": "2026-12-01"},      # ends before it starts
    {"start": "2026-01-01", "end": "2026-12-31"},      # not an exam window
    {"start": "<script>", "end": "x"},
    {"start": "9999-12-30", "end": "9999-12-31"},      # the day after would overflow
    {"start": "2031-01-01", "end": "2031-01-05"},      # years away from today
    {"start": "0001-01-01", "end": "0001-01-02"},
])
def test_bad_calendar_requests_get_400(bot, params):
    assert requests.get(f"{bot.web_url}/calendar.ics", params=params, timeout=10).status_code == 400


def test_demo_page_points_at_this_bot(bot):
    page = requests.get(bot.web_url + "/", timeout=10).text
    assert bot.url in page and "/widget.js" in page


@pytest.mark.parametrize("origin,allowed", [("the demo page", True), ("https://evil.example", False)])
def test_only_allowed_origins_may_call_the_bot_from_a_browser(bot, origin, allowed):
    origin = bot.web_url if origin == "the demo page" else origin
    response = requests.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": "cors-test", "message": "hi"},
                             headers={"Origin": origin}, timeout=30)
    assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed
