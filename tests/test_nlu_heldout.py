"""Understanding, measured at the running bot on messages training never sees:
tests/nlu/heldout.yml (short questions written apart from the training data) and
tests/nlu/patients.yml (what patients really write: stories, typos, two questions,
each with its source). Plus two questions in one message and "do you mean A or B?"."""
from __future__ import annotations

import re
import uuid
from typing import Dict, List

import pytest
import yaml

from conftest import ROOT, load_nlu_examples, topic_key

# The top guess (what /model/parse ranks first): issue 12 asks for 95% and 90%
# (figures of the shipped model in docs/model-choice.md and `make bench`).
MIN_HELDOUT_ACCURACY = 0.95
MIN_PATIENT_ACCURACY = 0.90
MAX_CONFIDENT_WRONG = 0.03
FALLBACK_THRESHOLD = next(item["threshold"] for item in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
                          if item["name"] == "FallbackClassifier")


def heldout():
    cases = []
    for intent, examples in load_nlu_examples(ROOT / "tests/nlu/heldout.yml").items():
        key = intent.split("/", 1)[1] if intent.startswith("faq/") else intent
        cases += [(text, [key]) for text in examples]
    return cases


def patients():
    content = yaml.safe_load((ROOT / "tests/nlu/patients.yml").read_text(encoding="utf-8"))
    return [(m["text"], list(m["topics"])) for m in content["messages"]]


def accept(key: str, got: str) -> bool:
    # out_of_scope may also surface as nlu_fallback (docs/topics.md)
    return got == key or (key == "out_of_scope" and got == "nlu_fallback")


def top_guess(parsed) -> str:
    """The topic ranked first, also when the fallback answered (read as make bench reads it)."""
    from scripts.nlu_eval import outcome_of_parse

    return outcome_of_parse(parsed).key


def measure(bot, cases):
    """Top-guess accuracy, and answers given (not the fallback, not "A or B?") to a wrong topic."""
    misses, confident_wrong = [], []
    for text, keys in cases:
        parsed = bot.parse(text)
        if top_guess(parsed) not in keys:
            misses.append(f"{keys} <- {top_guess(parsed)}: {text}")
        answered = topic_key(parsed)
        asks_which = any(e["entity"] == "faq_mode" and e["value"] == "choose" for e in parsed.get("entities", []))
        if not any(accept(key, answered) for key in keys) and answered != "nlu_fallback" and not asks_which \
                and answered != "report_symptoms":
            confident_wrong.append(f"{keys} <- {answered}: {text}")
    return 1 - len(misses) / len(cases), len(confident_wrong) / len(cases), misses + ["confident wrong:"] + confident_wrong


def test_heldout_accuracy(bot):
    accuracy, _, misses = measure(bot, heldout())
    print(f"held-out accuracy {accuracy:.1%}")
    assert accuracy >= MIN_HELDOUT_ACCURACY, f"accuracy {accuracy:.3f}; misses:\n" + "\n".join(misses)


def test_patient_language_accuracy_and_few_confident_wrong_answers(bot):
    cases = patients()
    accuracy, wrong, misses = measure(bot, cases)
    print(f"patient-language accuracy {accuracy:.1%}, confident wrong {wrong:.1%}")
    assert len(cases) >= 200
    assert accuracy >= MIN_PATIENT_ACCURACY, f"accuracy {accuracy:.3f}; misses:\n" + "\n".join(misses)
    assert wrong <= MAX_CONFIDENT_WRONG, "\n".join(misses)


def test_patient_set_is_real_and_never_trained_on():
    content = yaml.safe_load((ROOT / "tests/nlu/patients.yml").read_text(encoding="utf-8"))["messages"]
    normal = lambda text: " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())  # noqa: E731
    trained = {normal(t) for path in (ROOT / "data" / "nlu").glob("*.yml")
               for lines in load_nlu_examples(path).values() for t in lines}
    assert not [m["text"] for m in content if normal(m["text"]) in trained]
    assert all(m.get("source") for m in content)
    multi = [m for m in content if len(re.findall(r"[.!?]+(?:\s|$)", m["text"].strip())) >= 2]
    assert len(multi) >= 0.4 * len(content)


def bot_responses(bot, sender: str) -> List[str]:
    return [(e.get("metadata") or {}).get("utter_action", "") for e in bot.tracker(sender)["events"]
            if e["event"] == "bot"]


TWO_QUESTIONS: Dict[str, List[str]] = {
    "Is the contrast safe? Also, will it hurt?": ["contrast", "pain"],
    "how long does the hsg take and can my husband come in the room with me?": ["duration", "support_person"],
    "Do I need antibiotics before it? And can I drive home afterwards?": ["antibiotics", "activities_after"],
    "what is the balloon for? also when will i get my results": ["balloon", "results"],
    "Can I breastfeed after the exam? How much radiation is there?": ["breastfeeding", "radiation"],
    "how much does it cost with insurance? and how long does it take?": ["cost_insurance", "duration"],
    "Can I have sex after the HSG? Also is spotting normal afterwards?": ["after_sex_conceive", "aftercare"],
    "What should I eat before the test? and what are the risks?": ["preparation", "risks"],
    "im allergic to shellfish is the dye ok? and does it hurt a lot": ["contrast_allergy", "pain"],
    "Do they numb you first? Also what is a catheter?": ["pain_relief", "catheter"],
}


@pytest.mark.parametrize("text", list(TWO_QUESTIONS))
def test_two_questions_get_both_answers_in_order(bot, text):
    sender = f"two-{uuid.uuid4()}"
    replies = bot.say(sender, text)
    assert bot_responses(bot, sender) == [f"utter_faq/{key}" for key in TWO_QUESTIONS[text]]
    assert len([r for r in replies if r.get("text")]) == 2


def test_two_questions_by_sms_are_two_short_texts(bot):
    from test_sms import Phone

    from common.sms_segments import segments

    replies = Phone(bot).text("how much does it cost with insurance? and how long does it take?")
    assert len(replies) == 2 and all(segments(reply)[1] <= 2 for reply in replies)


def test_unsure_between_two_topics_asks_and_each_button_answers(bot):
    sender = f"which-{uuid.uuid4()}"
    replies = bot.say(sender, "what happens with my tubes")   # the result, or the exam itself?
    assert bot_responses(bot, sender) == ["utter_clarify_topic"]
    buttons = replies[-1]["buttons"]
    assert len(buttons) == 2 and all(b["payload"].startswith("/faq/") for b in buttons)
    assert "?" in replies[-1]["text"] and all(b["title"] and "{" not in b["title"] for b in buttons)
    for button in buttons:
        bot.say(sender, button["payload"])
        assert bot_responses(bot, sender)[-1] == "utter_" + button["payload"][1:]
    assert topic_key(bot.parse("/faq/cost_insurance")) == "cost_insurance"


@pytest.mark.parametrize("key", ["pain_relief", "support_person", "activities_after", "after_sex_conceive",
                                 "antibiotics", "breastfeeding", "alternatives", "cost_insurance"])
def test_new_topic_keys_come_back_from_model_parse(bot, key):
    examples = load_nlu_examples(ROOT / "tests/nlu/heldout.yml")[f"faq/{key}"]
    parsed = [bot.parse(text) for text in examples]
    # the answer chosen for faq/<key> (also there when the fallback answered: too unsure)
    keys = [p["response_selector"]["faq"]["response"]["intent_response_key"] for p in parsed
            if "faq" in p.get("response_selector", {})]
    assert keys.count(f"faq/{key}") >= 0.7 * len(examples)
    assert any(p["intent"]["name"] == "faq" for p in parsed)


def test_every_heldout_symptom_gets_the_urgent_answer(bot, domain):
    urgent = {variant["text"] for variant in domain["responses"]["utter_urgent"]}
    examples = load_nlu_examples(ROOT / "tests/nlu/heldout.yml")["report_symptoms"]
    missed = [text for text in examples if not set(bot.texts(f"sym-{uuid.uuid4()}", text)) & urgent]
    assert not missed, "no urgent answer for:\n" + "\n".join(missed)
