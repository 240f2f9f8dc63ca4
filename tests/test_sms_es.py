"""Spanish by text message, against the running bot: a Spanish text gets Spanish
answers (at most 4 segments: accents make an SMS UCS-2), AYUDA works like HELP,
ESPAÑOL and ENGLISH switch, and STOP (or PARAR) still opts out."""

from __future__ import annotations

from conftest import SMS_HASH_KEY
from test_sms import Phone

from common.settings import load_settings, placeholders
from common.sms_segments import segments
from components.sms_store import number_key

SPANISH = [{"type": "slot", "name": "language", "value": "es"}]


def variant(domain, name, language="en", channel="twilio"):
    """The built response variant for a language and channel."""
    for candidate in domain["responses"][name]:
        spanish = candidate.get("condition") == SPANISH
        if spanish == (language == "es") and candidate.get("channel") == channel:
            return candidate
    raise AssertionError(f"{name} has no {language} variant for {channel}")


def keyword_text(name, language):
    """A keyword reply as the patient reads it (clinic settings filled in)."""
    import yaml
    from conftest import ROOT

    answer = yaml.safe_load((ROOT / "content" / "answers" / "sms_keywords" / f"{name}.yml").read_text("utf-8"))
    text = (answer["es"] if language == "es" else answer)["sms"]["text"]
    for key, value in placeholders(load_settings(), language).items():
        text = text.replace("{" + key + "}", value)
    return text


def language_of(bot, phone):
    return bot.tracker(number_key(SMS_HASH_KEY, phone.number))["slots"].get("language")


def test_a_spanish_text_gets_spanish_answers_within_four_segments(bot, domain):
    phone = Phone(bot)
    replies = phone.text("hola, ¿el estudio HSG duele mucho? tengo miedo")
    spanish = variant(domain, "utter_faq/pain", "es")
    assert replies and replies[0].startswith(spanish["text"][:40])
    assert all(segments(reply)[1] <= 4 for reply in replies)
    assert language_of(bot, phone) == "es"
    assert "Responda 1 para" in replies[-1]  # the choices are offered in Spanish too
    # accents reach the phone as written: the TwiML says it is UTF-8
    assert "charset=utf-8" in phone.post("¿y el globo?").headers["content-type"].lower()
    picked = phone.text("1")  # a digit keeps the language
    assert picked and picked[0] != replies[0] and language_of(bot, phone) == "es"
    assert all(segments(reply)[1] <= 4 for reply in picked)


def test_ayuda_works_like_help_in_spanish(bot, settings):
    phone = Phone(bot)
    helped = phone.text("AYUDA")
    assert helped == [keyword_text("sms_help", "es")]
    assert settings["clinic_phone"] in helped[0] and "STOP" in helped[0]
    assert phone.text("help") == [keyword_text("sms_help", "en")]


def test_espanol_and_english_switch_the_language(bot, domain):
    phone = Phone(bot)
    assert phone.text("what is an hsg")[0].startswith(variant(domain, "utter_faq/what_is_hsg")["text"][:40])
    switched = phone.text("ESPAÑOL")
    assert switched[0] == variant(domain, "utter_language_chosen", "es")["text"]
    assert language_of(bot, phone) == "es"
    back = phone.text("English")
    assert back[0] == variant(domain, "utter_language_chosen", "en")["text"]
    assert language_of(bot, phone) == "en"


def test_stop_still_opts_out_and_confirms_in_the_patients_language(bot):
    phone = Phone(bot)
    assert phone.text("¿cuánto tiempo dura el examen?")
    stopped = phone.text("STOP")
    assert stopped == [keyword_text("sms_stop", "es")]
    assert phone.text("¿y el globo?") == []  # nothing while opted out
    started = phone.text("COMENZAR")
    assert started == [keyword_text("sms_start", "es")]
    assert phone.text("¿y el globo?")

    other = Phone(bot)
    assert other.text("PARAR") == [keyword_text("sms_stop", "es")]
    assert other.text("what is an hsg") == []
