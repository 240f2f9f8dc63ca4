"""The web server (web/server.py): calendar downloads, the widget's words in English and
Spanish (content/widget_text.yml) and the diagram's labels."""

from __future__ import annotations

import json
import os
import re
from datetime import date

import pytest
import requests
from icalendar import Calendar

from common.settings import placeholders


def test_ics_is_a_valid_all_day_event(bot, settings):
    response = requests.get(
        f"{bot.web_url}/calendar.ics", params={"start": "2026-12-30", "end": "2027-01-02"}, timeout=10
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == date(2026, 12, 30) and event.decoded("dtend") == date(2027, 1, 3)
    assert settings["clinic_phone"] in str(event.get("description"))


@pytest.mark.parametrize(
    "params",
    [
        {},  # nothing
        {"start": "2026-02-30", "end": "2026-03-02"},  # no such day
        {"start": "2026-12-10", "end": "2026-12-01"},  # ends before it starts
        {"start": "2026-01-01", "end": "2026-12-31"},  # not an exam window
        {"start": "<script>", "end": "x"},
        {"start": "9999-12-30", "end": "9999-12-31"},  # the day after would overflow
        {"start": "2031-01-01", "end": "2031-01-05"},  # years away from today
        {"start": "0001-01-01", "end": "0001-01-02"},
    ],
)
def test_bad_calendar_requests_get_400(bot, params):
    assert requests.get(f"{bot.web_url}/calendar.ics", params=params, timeout=10).status_code == 400


def test_demo_page_points_at_this_bot(bot):
    page = requests.get(bot.web_url + "/", timeout=10).text
    assert bot.url in page and "/widget.js" in page


@pytest.mark.parametrize("origin,allowed", [("the demo page", True), ("https://evil.example", False)])
def test_only_allowed_origins_may_call_the_bot_from_a_browser(bot, origin, allowed):
    origin = bot.web_url if origin == "the demo page" else origin
    response = requests.post(
        f"{bot.url}/webhooks/rest/webhook",
        json={"sender": "cors-test", "message": "hi"},
        headers={"Origin": origin},
        timeout=30,
    )
    assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed


# ---- the widget's words (content/widget_text.yml) and Spanish

WIDGET_PLACEHOLDERS = {"month", "year"}  # filled in by the widget itself, not by the server


def flat(words, prefix=""):
    """{"calendar.months.10": "November", ...}: every word of a language, by its place."""
    if isinstance(words, dict):
        return {k: v for key, value in words.items() for k, v in flat(value, f"{prefix}{key}.").items()}
    if isinstance(words, list):
        return {k: v for i, value in enumerate(words) for k, v in flat(value, f"{prefix}{i}.").items()}
    return {prefix[:-1]: words}


def test_widget_text_file_has_the_same_words_in_english_and_spanish():
    """Content staff edit content/widget_text.yml: every key in both languages, every
    word translated (a Spanish word equal to the English one is a forgotten one)."""
    import yaml
    from conftest import ROOT

    raw = yaml.safe_load((ROOT / "content" / "widget_text.yml").read_text(encoding="utf-8"))
    assert list(raw) == ["en", "es"]
    english, spanish = flat(raw["en"]), flat(raw["es"])
    assert set(spanish) == set(english)
    assert all(isinstance(v, str) and v.strip() for v in list(english.values()) + list(spanish.values()))
    assert [key for key in english if english[key] == spanish[key]] == []
    assert len(raw["es"]["calendar"]["months"]) == 12 and len(raw["es"]["calendar"]["weekdays_short"]) == 7


def test_widget_text_endpoint_fills_in_the_clinic_settings(bot, settings):
    response = requests.get(f"{bot.web_url}/widget-text.json", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    words = response.json()
    assert list(words) == ["en", "es"]
    for language in words:
        left = {
            key: value
            for key, value in flat(words[language]).items()
            if set(re.findall(r"\{(\w+)\}", value)) - WIDGET_PLACEHOLDERS
        }
        assert left == {}, f"placeholders not filled in ({language}): {left}"
    assert settings["clinic_phone"] in words["es"]["error"] and settings["clinic_name"] in words["en"]["error"]
    assert words["es"]["send"] == "Enviar" and words["es"]["calendar"]["months"][10] == "Noviembre"


def test_widget_js_is_served_with_its_words_and_cached_by_etag(bot):
    response = requests.get(f"{bot.web_url}/widget.js", timeout=10)
    assert response.status_code == 200 and "javascript" in response.headers["Content-Type"]
    assert "/*HSG_WIDGET_TEXT*/null" not in response.text
    words = requests.get(f"{bot.web_url}/widget-text.json", timeout=10).json()
    assert json.dumps(words, ensure_ascii=True) in response.text  # every word of both languages
    again = requests.get(f"{bot.web_url}/widget.js", headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


def test_widget_text_is_read_again_when_the_file_changes_and_a_broken_file_keeps_the_last_words(tmp_path, settings):
    from web.server import widget_text

    path = tmp_path / "widget_text.yml"
    path.write_text(
        'en: {send: Send, error: "Call {clinic_phone}, {month}", nested: {a: [x, y]}}\n'
        'es: {send: Enviar, error: "Llame al {clinic_phone}, {month}. {results_days}"}\n',
        encoding="utf-8",
    )
    first = widget_text(path, settings)
    assert first["en"]["error"] == f"Call {settings['clinic_phone']}, {{month}}"
    assert first["es"]["error"].endswith(settings["results_days_es"])  # the clinic's Spanish words
    assert first["es"]["nested"] == {"a": ["x", "y"]}  # not translated yet: English
    path.write_text(path.read_text(encoding="utf-8").replace("Enviar", "Mandar"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert widget_text(path, settings)["es"]["send"] == "Mandar"
    path.write_text("es: [unclosed\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 2 * 10**9,) * 2)
    assert widget_text(path, settings)["es"]["send"] == "Mandar"


@pytest.mark.parametrize("language", ["es", "en", None])
def test_ics_in_the_patients_language(bot, settings, language):
    params = {"start": "2026-12-07", "end": "2026-12-10"}
    if language:
        params["lang"] = language
    response = requests.get(f"{bot.web_url}/calendar.ics", params=params, timeout=10)
    assert response.status_code == 200
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    suffix = "_es" if language == "es" else ""
    assert str(event.get("summary")) == settings["web"]["calendar_title" + suffix]
    assert event.get("summary").params["LANGUAGE"] == (language or "en")
    note = settings["web"]["calendar_note" + suffix].format(**placeholders(settings, language or "en"))
    assert str(event.get("description")) == note
    assert event.decoded("dtstart") == date(2026, 12, 7) and event.decoded("dtend") == date(2026, 12, 11)
    name = requests.get(f"{bot.web_url}/widget-text.json", timeout=10).json()[language or "en"]["calendar"]["file_name"]
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'


@pytest.mark.parametrize("lang", ["fr", "ES", "", "<script>", ["es", "en"]])
def test_a_language_the_chat_does_not_speak_gets_400(bot, lang):
    """Decided: 400, as for bad dates (the chat's own link never sends one; English would hide a bug)."""
    params = {"start": "2026-12-07", "end": "2026-12-10", "lang": lang}
    assert requests.get(f"{bot.web_url}/calendar.ics", params=params, timeout=10).status_code == 400
    assert requests.get(f"{bot.web_url}/hsg-diagram.svg", params={"lang": lang}, timeout=10).status_code == 400


@pytest.mark.parametrize("language", ["es", "en", None])
def test_diagram_labels_in_the_language(bot, language):
    from xml.etree import ElementTree

    response = requests.get(f"{bot.web_url}/hsg-diagram.svg", params={"lang": language} if language else {}, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/svg+xml"
    svg = ElementTree.fromstring(response.content)
    words = requests.get(f"{bot.web_url}/widget-text.json", timeout=10).json()[language or "en"]["diagram"]
    ns = "{http://www.w3.org/2000/svg}"
    labels = [t.text for t in svg.iter(ns + "text")]
    assert labels == [
        words[key]
        for key in ("fallopian_tube", "contrast", "uterus", "cervix", "balloon", "catheter", "ovary", "spill")
    ]
    assert svg.find(ns + "title").text == words["title"] and svg.find(ns + "desc").text == words["description"]
    assert svg.get("{http://www.w3.org/XML/1998/namespace}lang") == (language or "en")
    assert "{" not in response.text


def test_diagram_words_are_escaped(settings):
    from xml.etree import ElementTree

    from web.server import diagram

    words = {
        key: 'A & <b>"B"</b>'
        for key in (
            "title",
            "description",
            "fallopian_tube",
            "contrast",
            "uterus",
            "cervix",
            "balloon",
            "catheter",
            "ovary",
            "spill",
        )
    }
    svg = ElementTree.fromstring(diagram("en", {"en": {"diagram": words}}))
    assert {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")} == {'A & <b>"B"</b>'}
