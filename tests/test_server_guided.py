"""The guided choice at the running bot (issue 23): when the model is unsure, the
patient gets the message's likely topics as buttons (web) or numbered choices (SMS),
plus "Something else" (the topic list, grouped); each choice leads to its answer; a
story without a question gets an acknowledgement first; a message with nothing about
the HSG keeps the out-of-scope answer; a symptom still gets the urgent answer; and the
editors' report records what was offered and what was picked."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import requests
import yaml
from conftest import EDITOR, ROOT, set_texts
from test_nlu_heldout import bot_responses
from test_sms import Phone

from common.settings import topic_groups, topic_labels
from common.sms_segments import segments

GUIDED = {"utter_guided_one", "utter_clarify_topic", "utter_guided_three"}
# The answer each topic key gets (a faq key's answer is utter_faq/<key>).
INTENT_ANSWERS = {
    "timing": "utter_timing",
    "device_confirmation": "utter_device_confirmation",
    "human_handoff": "utter_handoff",
}
# Messages the model is unsure of, in HSG words (written for these tests; in no data or
# test set), each well below the threshold, with two or three likely topics.
UNSURE = [
    "what happens with my tubes",
    "the tube thing after the dye, is that a problem",
    "what about afterwards",
    "so confused about the whole tubes thing",
]


def test_a_negated_symptom_with_a_question_gets_its_topic_not_the_urgent_answer(bot):
    """Once an unsure message (before the real patients' words were trained on), now the
    results answer itself; either way never the urgent answer."""
    sender = f"guided-negated-{uuid.uuid4()}"
    bot.say(sender, "I have not had any fever since the HSG, I just wonder about the results")
    said = bot_responses(bot, sender)
    assert "utter_urgent" not in said and said[-1] in GUIDED | {"utter_faq/results"}


UNSURE_ES = ["¿qué pasa con mis trompas?", "qué pasa después con las trompas"]
STORIES = [
    "my HSG is tomorrow and I'm terrified",
    "so my doctor finally ordered the dye test for next week",
    "just had my hsg, both tubes open!!",
]
STORIES_ES = [
    "mañana es mi estudio de las trompas y tengo mucho miedo",
    "mi doctora por fin me mandó el estudio de las trompas para la próxima semana",
    "tengo la histero mañana y estoy muerta de miedo",
]


def answer_of(payload: str) -> str:
    """The response a button's payload leads to."""
    key = payload[len("/faq/") :] if payload.startswith("/faq/") else payload.lstrip("/")
    return INTENT_ANSWERS.get(key) or f"utter_faq/{key}"


def texts_of(domain, name: str, channel=None, language="en") -> set:
    """Every text a response can have in a language (web, or `channel` twilio)."""
    found = set()
    for variant in domain["responses"][name]:
        spanish = any(c.get("value") == "es" for c in variant.get("condition") or [])
        if spanish == (language == "es") and variant.get("channel") == channel:
            found.add(variant["text"])
    return found


def guided(bot, sender: str, text: str) -> Dict:
    """Sends `text` and returns the guided choice's message (it must be one)."""
    replies = bot.say(sender, text)
    names = bot_responses(bot, sender)
    assert names[-1] in GUIDED, (text, names)
    return replies[-1]


@pytest.mark.parametrize("text", UNSURE)
def test_an_unsure_question_offers_its_likely_topics_and_each_leads_to_its_answer(bot, text):
    sender = f"guided-{uuid.uuid4()}"
    question = guided(bot, sender, text)
    buttons = question["buttons"]
    *topics, other = buttons
    assert 1 <= len(topics) <= 3 and other["payload"] == "/topic_menu" and other["title"] == "Something else"
    if len(topics) == 1:  # "Is your question about ...?"
        assert topics[0]["title"] == "Yes, that's it"
    assert all(b["title"] and "{" not in b["title"] and "{" not in b["payload"] for b in buttons)
    assert "?" in question["text"] and "{" not in question["text"]
    for button in topics:
        bot.say(sender, button["payload"])
        assert bot_responses(bot, sender)[-1] == answer_of(button["payload"]), button


def test_the_tracker_records_the_message_what_was_offered_and_what_was_picked(bot):
    sender = f"guided-tracker-{uuid.uuid4()}"
    question = guided(bot, sender, UNSURE[0])
    pick = question["buttons"][0]["payload"]
    bot.say(sender, pick)
    events = bot.tracker(sender)["events"]
    users = [e for e in events if e["event"] == "user"]
    offer = next(e["value"] for e in events if e["event"] == "slot" and e["name"] == "guided_offer")
    assert users[0]["text"] == UNSURE[0] and offer["message_id"] == users[0]["message_id"]
    assert [answer_of(f"/faq/{k}") for k in offer["offered"]] == [
        answer_of(b["payload"]) for b in question["buttons"][:-1]
    ]
    assert users[-1]["text"] == pick


def test_something_else_lists_the_groups_then_a_groups_topics_then_an_answer(bot):
    sender = f"guided-list-{uuid.uuid4()}"
    question = guided(bot, sender, UNSURE[0])
    groups = bot.say(sender, question["buttons"][-1]["payload"])[-1]
    assert bot_responses(bot, sender)[-1] == "utter_topic_groups"
    assert [b["title"] for b in groups["buttons"]] == [g["en"] for g in topic_groups()]
    labels = topic_labels()
    for button, group in zip(groups["buttons"], topic_groups()):
        listing = bot.say(sender, button["payload"])[-1]
        assert bot_responses(bot, sender)[-1] == "utter_topic_group" and listing["text"].startswith(group["en"])
        assert [b["title"] for b in listing["buttons"]] == [labels[key]["button"] for key in group["topics"]]
    bot.say(sender, listing["buttons"][0]["payload"])
    assert bot_responses(bot, sender)[-1] == answer_of(listing["buttons"][0]["payload"])


def test_what_can_i_ask_gets_the_topic_list(bot):
    sender = f"guided-menu-{uuid.uuid4()}"
    bot.say(sender, "what kinds of things can i ask you about")
    assert bot_responses(bot, sender) == ["utter_topic_groups"]


@pytest.mark.parametrize("text", STORIES)
def test_a_story_without_a_question_gets_an_acknowledgement_and_its_likely_topics(bot, text):
    sender = f"guided-story-{uuid.uuid4()}"
    guided(bot, sender, text)
    assert bot_responses(bot, sender)[0] == "utter_story_ack"


def test_a_message_with_nothing_about_the_hsg_keeps_the_out_of_scope_answer(bot):
    for text in ("what's the weather going to be like tomorrow", "can you give me a recipe for banana bread"):
        sender = f"guided-oos-{uuid.uuid4()}"
        replies = bot.say(sender, text)
        assert bot_responses(bot, sender) == ["utter_out_of_scope"], text
        assert all(b["payload"] != "/topic_menu" for r in replies for b in r.get("buttons") or [])


@pytest.mark.parametrize(
    "text",
    [
        "I had my HSG yesterday and now I have a fever of 102 and chills",
        "hsg was this morning and I'm soaking a pad every hour",
        "me hicieron el estudio ayer y ahora tengo fiebre de 39",
    ],
)
def test_a_first_person_symptom_story_still_gets_the_urgent_answer(bot, text):
    sender = f"guided-urgent-{uuid.uuid4()}"
    bot.say(sender, text)
    assert bot_responses(bot, sender) == ["utter_urgent"], text


# ---------------------------------------------------------------- Spanish
@pytest.mark.parametrize("text", UNSURE_ES)
def test_spanish_unsure_question_offers_spanish_topics_and_each_leads_to_its_answer(bot, domain, text):
    sender = f"guided-es-{uuid.uuid4()}"
    question = guided(bot, sender, text)
    *topics, other = question["buttons"]
    assert other == {"title": "Otra cosa", "payload": "/topic_menu"}
    spanish = {row["es"]["button"] for row in topic_labels().values()}
    assert all(b["title"] in spanish for b in topics)
    for button in topics:
        answer = bot.texts(sender, button["payload"])
        name = bot_responses(bot, sender)[-1]
        assert name == answer_of(button["payload"]) and answer[0] in texts_of(domain, name, language="es")
    groups = bot.say(sender, "/topic_menu")[-1]
    assert [b["title"] for b in groups["buttons"]] == [g["es"] for g in topic_groups()]


@pytest.mark.parametrize("text", STORIES_ES)
def test_a_spanish_story_gets_a_spanish_acknowledgement(bot, domain, text):
    sender = f"guided-es-story-{uuid.uuid4()}"
    texts = bot.texts(sender, text)
    assert bot_responses(bot, sender)[0] == "utter_story_ack"
    assert texts[0] in texts_of(domain, "utter_story_ack", language="es")


# ---------------------------------------------------------------- SMS
LINK = {"en": ("Reply ", "for"), "es": ("Responda ", "para")}


def choices(body: str, language: str) -> List[str]:
    """The numbered choices of an SMS ("Reply 1 for X, 2 for Y."; content/sms_choices.yml)."""
    start, word = LINK[language]
    line = body.split("\n")[-1]
    assert line.startswith(start) and line.endswith("."), body
    parts = re.split(rf", (?=\d+ {word} )", line[len(start) : -1])
    return [re.match(rf"(\d+) {word} (.*)$", part).group(2) for part in parts]


def sms_texts(domain, name: str, language: str) -> set:
    return {t[:40] for t in texts_of(domain, name, "twilio", language)}


@pytest.mark.parametrize("language,text,limit", [("en", UNSURE[0], 2), ("es", UNSURE_ES[0], 4)])
def test_by_sms_the_guided_choice_is_numbered_and_each_number_leads_to_its_answer(bot, domain, language, text, limit):
    web = guided(bot, f"guided-web-{uuid.uuid4()}", text)  # the same reading on the web: the payloads
    phone = Phone(bot)
    (body,) = phone.text(text)
    offered = choices(body, language)
    assert offered == [b["title"] for b in web["buttons"]] and segments(body)[1] <= limit
    assert offered[-1] == ("Something else" if language == "en" else "Otra cosa")
    for number, button in enumerate(web["buttons"][:-1], start=1):  # ask again, then reply with its number
        phone.text(text)
        answer = phone.text(str(number))[0]
        assert answer[:40] in sms_texts(domain, answer_of(button["payload"]), language), (number, answer)
        assert segments(answer)[1] <= limit
    phone.text(text)
    (groups,) = phone.text(str(len(offered)))  # Something else: the groups, numbered
    assert choices(groups, language) == [g[language] for g in topic_groups()] and segments(groups)[1] <= limit
    (listing,) = phone.text("1")  # the first group's topics, numbered
    labels, first = topic_labels(), topic_groups()[0]["topics"]
    titles = [labels[k]["es"]["button"] if language == "es" else labels[k]["button"] for k in first]
    assert choices(listing, language) == titles and segments(listing)[1] <= limit
    answer = phone.text("1")[0]
    assert answer[:40] in sms_texts(domain, answer_of(f"/faq/{first[0]}"), language)


# ---------------------------------------------------------------- the editors' report
def test_the_report_records_what_was_offered_and_what_was_picked(bot):
    sender = f"guided-report-{uuid.uuid4()}"
    text = f"{UNSURE[0]} {uuid.uuid4().hex[:6]}"  # its own group in the report
    question = guided(bot, sender, text)
    offered = [b["payload"] for b in question["buttons"][:-1]]
    bot.say(sender, offered[-1])
    session = requests.Session()
    session.post(
        bot.content_url + "/editor/login",
        data={"name": EDITOR[0], "password": EDITOR[1]},
        allow_redirects=False,
        timeout=30,
    )
    deadline = time.monotonic() + 15  # the bot sends report entries in the background
    while True:
        groups = session.get(bot.content_url + "/editor/api/report", timeout=30).json()["groups"]
        group = next((g for g in groups if g["text"] == text), None)
        if group and group.get("picked"):
            break
        assert time.monotonic() < deadline, f"no pick recorded: {group}"
        time.sleep(0.25)
    assert group["kinds"] == {"guided choice": 1}
    assert [answer_of(f"/faq/{key}") for key in group["offered"]] == [answer_of(p) for p in offered]
    picked_key = offered[-1][len("/faq/") :] if offered[-1].startswith("/faq/") else offered[-1].lstrip("/")
    assert group["picked"] == {picked_key: 1}


# ---------------------------------------------------------------- real patients' messages
REAL_SETS = [
    ROOT / "tests/nlu/patients_dev_pages.yml",
    ROOT / "tests/nlu/patients.yml",
    ROOT / "tests/nlu/es/patients.yml",
]


def hsg_words() -> re.Pattern:
    words = yaml.safe_load((ROOT / "components" / "hsg_words.yml").read_text(encoding="utf-8"))
    return re.compile(r"\b(?:" + "|".join(p for patterns in words.values() for p in patterns) + r")\b", re.I)


@pytest.mark.parametrize("path", REAL_SETS, ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_no_message_in_hsg_words_gets_a_fallback_without_topic_choices(bot, domain, path):
    """Every real patient's message with a word of the HSG's vocabulary gets an answer, the
    urgent answer, or the guided choice: never "I didn't understand" without topics."""
    fallback = texts_of(domain, "utter_fallback") | texts_of(domain, "utter_fallback", language="es")
    vocabulary = hsg_words()
    bare = []
    for text in set_texts(path):
        if not vocabulary.search(text):
            continue
        replies = bot.texts(f"real-{uuid.uuid4()}", text)
        if set(replies) & fallback:
            bare.append(text[:80])
    assert not bare, f"{len(bare)} got the fallback without topics:\n" + "\n".join(bare)


def test_the_question_buttons_of_the_answers_are_understood(bot):
    """A button whose payload is a question ("How do I get ready?") is answered, never
    read as out of scope or not understood (the guided choice's own buttons carry their
    topic in the payload)."""
    questions = set()
    for path in (ROOT / "content" / "answers").rglob("*.yml"):
        answer = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for form in (answer.get("web") or {}, answer.get("sms") or {}):
            questions |= {b["payload"] for b in form.get("buttons") or [] if str(b["payload"]).endswith("?")}
    assert len(questions) >= 20
    missed = [q for q in sorted(questions) if bot.parse(q)["intent"]["name"] in ("nlu_fallback", "out_of_scope")]
    assert not missed, missed


@pytest.mark.parametrize("language,yes", [("en", "yes"), ("es", "sí")])
def test_by_sms_a_yes_answers_is_it_about(bot, domain, language, yes):
    """ "Is your question about ...? Reply 1 for Yes, that's it, 2 for Something else."
    answered with a plain yes (or sí) gets that topic's answer."""
    from conftest import SMS_HASH_KEY

    from components.sms_store import number_key, open_sms_store

    phone = Phone(bot)
    phone.text("¿qué es la HSG?" if language == "es" else "what is an hsg")  # the conversation's language
    # the choices "Is your question about whether it hurts?" leaves (one likely topic is rare)
    title = "Sí, eso es" if language == "es" else "Yes, that's it"
    open_sms_store(Path(bot.env["HSG_SMS_DB"])).set_choices(
        number_key(SMS_HASH_KEY, phone.number),
        [{"title": title, "payload": "/faq/pain"}, {"title": "Something else", "payload": "/topic_menu"}],
    )
    answer = phone.text(yes)[0]
    assert answer[:40] in sms_texts(domain, "utter_faq/pain", language)


# ---------------------------------------------------------------- typed answers to the guided choice (issue 23)
# "Is your question about whether it hurts?" made directly: one likely topic is rare, and
# which message gets exactly one changes with every retraining. A "/intent{entities}"
# message is Rasa's own way to send what the model would have read.
IS_IT_ABOUT_PAIN = '/faq{"faq_mode":"choose","topic":"pain"}'
STORY_FEAR = {"en": "my HSG is tomorrow and I'm terrified", "es": "tengo la histero mañana y estoy muerta de miedo"}


def _is_it_about_pain(bot, sender: str, language: str) -> None:
    if language == "es":
        bot.say(sender, "¿qué es la HSG?")  # the conversation's language
    question = bot.say(sender, IS_IT_ABOUT_PAIN)[-1]
    assert bot_responses(bot, sender)[-1] == "utter_guided_one"
    assert question["buttons"][0]["payload"] == "/faq/pain"


@pytest.mark.parametrize(
    "language,reply",
    [
        ("en", "yes"),
        ("en", "ok"),
        ("en", "yes please"),
        ("en", "that one"),
        ("en", "Yes!"),
        ("es", "sí"),
        ("es", "si"),
        ("es", "ok"),
        ("es", "sí, esa"),
    ],
)
def test_a_typed_yes_to_is_it_about_answers_that_topic(bot, domain, language, reply):
    sender = f"guided-yes-{uuid.uuid4()}"
    _is_it_about_pain(bot, sender, language)
    texts = bot.texts(sender, reply)
    assert bot_responses(bot, sender)[-1] == "utter_faq/pain", reply
    assert texts[0] in texts_of(domain, "utter_faq/pain", language=language)
    offer = bot.tracker(sender)["slots"]["guided_offer"]
    assert offer["offered"] == ["pain"]


@pytest.mark.parametrize(
    "language,reply",
    [("en", "no"), ("en", "something else"), ("en", "none of these"), ("es", "no"), ("es", "otra cosa")],
)
def test_a_typed_no_to_the_guided_choice_opens_the_topic_list(bot, language, reply):
    sender = f"guided-no-{uuid.uuid4()}"
    guided(bot, sender, UNSURE_ES[0] if language == "es" else UNSURE[0])
    groups = bot.say(sender, reply)[-1]
    assert bot_responses(bot, sender)[-1] == "utter_topic_groups", reply
    assert [b["title"] for b in groups["buttons"]] == [g[language] for g in topic_groups()]


def test_a_yes_without_a_guided_choice_just_before_is_no_pick(bot):
    """Out of the blue, or after the answer that followed the choice, a yes answers no
    topic; nor does a yes to "A or B?" or "one of these?" (it names neither)."""
    sender = f"guided-yes-late-{uuid.uuid4()}"
    bot.say(sender, "yes")
    assert bot_responses(bot, sender) == ["utter_anything_else"]
    _is_it_about_pain(bot, sender, "en")
    bot.say(sender, "yes")
    bot.say(sender, "yes")
    assert bot_responses(bot, sender)[-2:] == ["utter_faq/pain", "utter_anything_else"]
    sender = f"guided-yes-two-{uuid.uuid4()}"
    question = guided(bot, sender, UNSURE[0])
    assert len(question["buttons"]) > 2  # two or three topics, and Something else
    bot.say(sender, "yes")
    assert bot_responses(bot, sender)[-1] == "utter_anything_else"


def test_a_typed_yes_is_recorded_as_the_pick(bot):
    from common.report_rules import picked_topic

    sender = f"guided-yes-pick-{uuid.uuid4()}"
    _is_it_about_pain(bot, sender, "en")
    bot.say(sender, "yes")
    tracker = bot.tracker(sender)
    assert picked_topic("utter_faq/pain", tracker["latest_message"], tracker["slots"]) == "pain"


@pytest.mark.parametrize("language,reply", [("en", "ok"), ("en", "that one"), ("es", "ok"), ("es", "sí, esa")])
def test_by_sms_a_typed_yes_answers_is_it_about(bot, domain, language, reply):
    """Replies the SMS channel does not match to a numbered choice ("ok", "that one") reach
    the bot, which reads them as the web does."""
    phone = Phone(bot)
    if language == "es":
        phone.text("¿qué es la HSG?")
    (question,) = phone.text(IS_IT_ABOUT_PAIN)
    assert choices(question, language)[0] == ("Sí, eso es" if language == "es" else "Yes, that's it")
    answer = phone.text(reply)[0]
    assert answer[:40] in sms_texts(domain, "utter_faq/pain", language), (reply, answer)


@pytest.mark.parametrize("language,reply", [("en", "no"), ("es", "no")])
def test_by_sms_a_typed_no_sends_the_topic_groups(bot, language, reply):
    phone = Phone(bot)
    if language == "es":
        phone.text("¿qué es la HSG?")
    phone.text(IS_IT_ABOUT_PAIN)
    (groups,) = phone.text(reply)
    assert choices(groups, language) == [g[language] for g in topic_groups()]


# ---------------------------------------------------------------- stories without a question (issue 23 part 5)
@pytest.mark.parametrize("language", ["en", "es"])
def test_fear_before_the_exam_offers_pain_what_happens_and_pain_relief(bot, language):
    """Once only "warning signs" (the model reads a story's words as no topic, and its fear
    words a little as a symptom): the story's situation now names the topics."""
    sender = f"guided-fear-{uuid.uuid4()}"
    question = guided(bot, sender, STORY_FEAR[language])
    assert bot_responses(bot, sender)[0] == "utter_story_ack"
    offered = [answer_of(b["payload"]) for b in question["buttons"][:-1]]
    assert offered[:2] == ["utter_faq/pain", "utter_faq/procedure_steps"], offered


@pytest.mark.parametrize(
    "text", ["just had my hsg, both tubes open!!", "ya me hicieron la histero y las dos trompas salieron bien!!"]
)
def test_good_news_after_the_exam_gets_an_acknowledgement_and_the_results_topics(bot, text):
    sender = f"guided-news-{uuid.uuid4()}"
    question = guided(bot, sender, text)
    assert bot_responses(bot, sender)[0] == "utter_story_ack"
    offered = [answer_of(b["payload"]) for b in question["buttons"][:-1]]
    assert {"utter_faq/results", "utter_faq/therapeutic_flushing"} <= set(offered), offered


@pytest.mark.parametrize(
    "text", ["I'm allergic to iodine and my HSG is tomorrow", "soy alérgica al yodo y mañana es mi histero"]
)
def test_a_story_with_a_concern_of_its_own_gets_its_answer(bot, text):
    sender = f"guided-concern-{uuid.uuid4()}"
    bot.say(sender, text)
    assert bot_responses(bot, sender) == ["utter_faq/contrast_allergy"], text
