"""Spanish through the REST channel (the web chat's), against the running bot:
Spanish questions give the same topic keys, Spanish answers, both answers of two
questions, "¿se refiere a A o a B?", the urgent answer, Spanish dates read back with
the month's name, and the language kept across a restart."""

from __future__ import annotations

import uuid

import pytest
from test_nlu_heldout import bot_responses
from test_sms_es import SPANISH


def spanish_texts(domain, name):
    return {v["text"] for v in domain["responses"][name] if v.get("condition") == SPANISH and not v.get("channel")}


def english_texts(domain, name):
    return {v["text"] for v in domain["responses"][name] if not v.get("condition") and not v.get("channel")}


def test_a_spanish_question_about_the_balloon_is_faq_balloon(bot):
    parsed = bot.parse("¿para qué sirve el globito que ponen en el cuello del útero?")
    assert parsed["intent"]["name"] == "faq"
    assert parsed["response_selector"]["faq"]["response"]["intent_response_key"] == "faq/balloon"
    assert parsed["language"] == "es"


def test_a_patient_who_writes_spanish_gets_spanish_from_that_message_on(bot, domain):
    sender = f"es-{uuid.uuid4()}"
    assert bot.texts(sender, "what is an hsg")[0] in english_texts(domain, "utter_faq/what_is_hsg")
    assert bot.texts(sender, "¿cuánto tiempo dura el examen?")[0] in spanish_texts(domain, "utter_faq/duration")
    assert bot.tracker(sender)["slots"]["language"] == "es"
    assert bot.texts(sender, "/greet")[0] in spanish_texts(domain, "utter_greet")  # no words: Spanish kept


TWO_QUESTIONS_ES = {
    "¿El contraste es seguro? ¿Y me va a doler?": ["contrast", "pain"],
    "cuanto dura el estudio y puede entrar mi esposo conmigo?": ["duration", "support_person"],
    "¿Para qué es el globo? También, ¿cuándo tendré los resultados?": ["balloon", "results"],
}


@pytest.mark.parametrize("text", list(TWO_QUESTIONS_ES))
def test_two_spanish_questions_get_both_spanish_answers_in_order(bot, domain, text):
    sender = f"es-two-{uuid.uuid4()}"
    replies = [r["text"] for r in bot.say(sender, text) if r.get("text")]
    keys = TWO_QUESTIONS_ES[text]
    assert bot_responses(bot, sender) == [f"utter_faq/{key}" for key in keys]
    assert [reply in spanish_texts(domain, f"utter_faq/{key}") for reply, key in zip(replies, keys)] == [True, True]


def test_unsure_between_topics_asks_in_spanish_and_each_button_answers(bot, domain):
    sender = f"es-which-{uuid.uuid4()}"
    replies = bot.say(sender, "¿qué pasa con mis trompas?")  # the result, or the exam itself?
    assert bot_responses(bot, sender)[-1] in ("utter_guided_one", "utter_clarify_topic", "utter_guided_three")
    question = replies[-1]
    assert "¿" in question["text"] and "{" not in question["text"]
    *buttons, other = question["buttons"]
    assert 1 <= len(buttons) <= 3 and all(b["payload"].startswith("/faq/") for b in buttons)
    assert other == {"title": "Otra cosa", "payload": "/topic_menu"}
    for button in buttons:
        answer = bot.texts(sender, button["payload"])
        assert bot_responses(bot, sender)[-1] == "utter_" + button["payload"][1:]
        assert answer[0] in spanish_texts(domain, "utter_" + button["payload"][1:])


def test_a_spanish_symptom_gets_the_spanish_urgent_answer_even_in_a_form(bot, domain, settings):
    sender = f"es-urgent-{uuid.uuid4()}"
    urgent = spanish_texts(domain, "utter_urgent")
    assert set(bot.texts(sender, "tengo fiebre de 39 y escalofríos desde el estudio")) & urgent
    other = f"es-urgent-form-{uuid.uuid4()}"
    bot.texts(other, "¿cuándo puedo hacerme el HSG? mi regla empezó el 20 de noviembre")
    texts = bot.texts(other, "estoy sangrando muchísimo, empapo una toalla cada hora")
    assert set(texts) & urgent and any(settings["emergency_number"] in t for t in texts)


def test_spanish_dates_are_read_back_with_the_months_name(bot):
    sender = f"es-dates-{uuid.uuid4()}"
    first = " ".join(bot.texts(sender, "¿Cuándo me toca el HSG? Mi regla empezó el 20/11"))
    assert "20 de noviembre" in first
    second = " ".join(bot.texts(sender, "terminó el 24"))
    assert "27 de noviembre" in second and "29 de noviembre" in second
    slots = bot.tracker(sender)["slots"]
    assert (slots["period_start"], slots["hsg_window_start"], slots["hsg_window_end"]) == (
        "2026-11-20",
        "2026-11-27",
        "2026-11-29",
    )


def test_the_language_survives_a_restart(tmp_path, domain):
    """The slot is kept with the conversation: the next run of the servers answers in Spanish."""
    from conftest import TODAY, Bot

    from scripts.servers import free_ports, start_bot

    env = {"HSG_TRACKER_DB": str(tmp_path / "tracker.sqlite3"), "HSG_TODAY": TODAY.isoformat()}
    sender = f"es-restart-{uuid.uuid4()}"
    for run in ("first", "second"):
        rasa_port, actions_port, web_port, content_port = free_ports(4)
        running = start_bot(
            tmp_path / run,
            rasa_port,
            actions_port,
            "restart-test",
            extra_env=env,
            web_port=web_port,
            content_port=content_port,
        )
        try:
            bot = Bot(running.url, running.token, running.run_dir, running=running)
            if run == "first":
                assert bot.texts(sender, "hola, ¿qué es el HSG?")[0] in spanish_texts(domain, "utter_faq/what_is_hsg")
            else:
                assert bot.texts(sender, "/greet")[0] in spanish_texts(domain, "utter_greet")
        finally:
            running.stop()


def test_a_patient_back_after_an_hour_is_still_answered_in_spanish(bot, domain):
    """A new session (60 minutes away, domain.yml) forgets the dates but keeps the language
    (action_session_start, actions/session.py): a button, which has no words to tell the
    language by, is answered in Spanish."""
    import contextlib
    import sqlite3

    sender = f"back-es-{uuid.uuid4().hex[:8]}"
    assert bot.texts(sender, "¿cuánto tiempo dura el examen?")[0] in spanish_texts(domain, "utter_faq/duration")
    period = "¿Cuándo me toca el HSG? Mi regla empezó el 20 de noviembre"
    assert "20 de noviembre" in " ".join(bot.texts(sender, period))
    assert bot.tracker(sender)["slots"]["period_start"] == "2026-11-20"
    with contextlib.closing(sqlite3.connect(bot.env["HSG_TRACKER_DB"])) as db, db:
        moved = db.execute(  # two hours ago: the column and the event's own timestamp, which Rasa reads
            "UPDATE events SET timestamp = timestamp - 7200, "
            "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - 7200) WHERE sender_id = ?",
            (sender,),
        )
        assert moved.rowcount > 0
    assert bot.texts(sender, "/greet")[0] in spanish_texts(domain, "utter_greet")
    events = bot.tracker(sender)["events"]
    starts = [i for i, event in enumerate(events) if event["event"] == "session_started"]
    assert starts and events[starts[-1] - 1].get("name") == "action_session_start"
    session = events[starts[-1] :]  # the new session: it began before "/greet"
    assert [event.get("text") for event in session if event["event"] == "user"] == ["/greet"]
    after = session[1]  # right after the new session's start
    assert (after["event"], after.get("name"), after.get("value")) == ("slot", "language", "es")
    slots = bot.tracker(sender)["slots"]
    assert (slots["language"], slots["period_start"]) == ("es", None)  # the dates are asked again
