"""Understanding, measured at the running bot on messages training never sees:
tests/nlu/heldout.yml (short questions written apart from the training data) and
tests/nlu/patients.yml (what patients really write: stories, typos, two questions,
each with its source). Plus two questions in one message and "do you mean A or B?".

In Spanish (issue 16): tests/nlu/es/heldout.yml and tests/nlu/es/patients.yml, measured
in-process with the shipped design (scripts/nlu_eval.py trains it, no bot needed) and at
the running bot."""

from __future__ import annotations

import re
import uuid
from typing import Dict, List

import pytest
import yaml
from conftest import ROOT, load_nlu_examples, set_texts, topic_key

# The top guess (what /model/parse ranks first): issue 12 asks for 95% and 90%
# (figures of the shipped model in docs/model-choice.md and `make bench`).
MIN_HELDOUT_ACCURACY = 0.95
MIN_PATIENT_ACCURACY = 0.90
MAX_CONFIDENT_WRONG = 0.03
# Spanish (issue 16): the held-out set's top guess (docs/languages.md)
MIN_SPANISH_HELDOUT_ACCURACY = 0.90
MIN_SPANISH_PATIENT_ACCURACY = 0.85
SPANISH_HELDOUT = ROOT / "tests/nlu/es/heldout.yml"
SPANISH_PATIENTS = ROOT / "tests/nlu/es/patients.yml"
FALLBACK_THRESHOLD = next(
    item["threshold"]
    for item in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    if item["name"] == "FallbackClassifier"
)


def heldout(path=ROOT / "tests/nlu/heldout.yml"):
    cases = []
    for intent, examples in load_nlu_examples(path).items():
        key = intent.split("/", 1)[1] if intent.startswith("faq/") else intent
        cases += [(text, [key]) for text in examples]
    return cases


def patients(path=ROOT / "tests/nlu/patients.yml"):
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        asks_which = any(
            e["entity"] == "faq_mode" and e["value"] in ("choose", "story")  # the guided choice
            for e in parsed.get("entities", [])
        )
        if (
            not any(accept(key, answered) for key in keys)
            and answered != "nlu_fallback"
            and not asks_which
            and answered != "report_symptoms"
        ):
            confident_wrong.append(f"{keys} <- {answered}: {text}")
    return (
        1 - len(misses) / len(cases),
        len(confident_wrong) / len(cases),
        misses + ["confident wrong:"] + confident_wrong,
    )


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
    trained = {
        normal(t)
        for path in (ROOT / "data" / "nlu").glob("*.yml")
        for lines in load_nlu_examples(path).values()
        for t in lines
    }
    assert not [m["text"] for m in content if normal(m["text"]) in trained]
    assert all(m.get("source") for m in content)
    multi = [m for m in content if len(re.findall(r"[.!?]+(?:\s|$)", m["text"].strip())) >= 2]
    assert len(multi) >= 0.4 * len(content)


def test_the_pages_development_set_shares_no_page_with_the_test_set():
    """Designs are chosen on tests/nlu/patients_dev_pages.yml: for the test set to stay
    unseen, no page (address without query or trailing slash) may feed both."""
    page = lambda url: re.sub(r"^https?://(www\.)?|[?#].*$|/+$", "", url.strip()).lower()  # noqa: E731
    test = yaml.safe_load((ROOT / "tests/nlu/patients.yml").read_text(encoding="utf-8"))["messages"]
    dev = yaml.safe_load((ROOT / "tests/nlu/patients_dev_pages.yml").read_text(encoding="utf-8"))["messages"]
    assert len(dev) >= 150 and all(m.get("source", "").startswith("http") for m in dev)
    test_pages = {page(m["source"]) for m in test if m["source"] != "written"}
    assert not [m["source"] for m in dev if page(m["source"]) in test_pages]
    test_texts = {_normal(m["text"]) for m in test}
    assert not [m["text"] for m in dev if _normal(m["text"]) in test_texts]


def bot_responses(bot, sender: str) -> List[str]:
    return [
        (e.get("metadata") or {}).get("utter_action", "") for e in bot.tracker(sender)["events"] if e["event"] == "bot"
    ]


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


def test_unsure_between_topics_asks_and_each_button_answers(bot):
    """The guided choice (tests/test_server_guided.py has more): each topic's button
    leads to its answer; the last button is "Something else"."""
    sender = f"which-{uuid.uuid4()}"
    replies = bot.say(sender, "what happens with my tubes")  # the result, or the exam itself?
    assert bot_responses(bot, sender)[-1] in ("utter_guided_one", "utter_clarify_topic", "utter_guided_three")
    *buttons, other = replies[-1]["buttons"]
    assert 1 <= len(buttons) <= 3 and all(b["payload"].startswith("/faq/") for b in buttons)
    assert other["payload"] == "/topic_menu"
    assert "?" in replies[-1]["text"] and all(b["title"] and "{" not in b["title"] for b in buttons)
    for button in buttons:
        bot.say(sender, button["payload"])
        assert bot_responses(bot, sender)[-1] == "utter_" + button["payload"][1:]
    assert topic_key(bot.parse("/faq/cost_insurance")) == "cost_insurance"


@pytest.mark.parametrize(
    "key",
    [
        "pain_relief",
        "support_person",
        "activities_after",
        "after_sex_conceive",
        "antibiotics",
        "breastfeeding",
        "alternatives",
        "cost_insurance",
    ],
)
def test_new_topic_keys_come_back_from_model_parse(bot, key):
    examples = load_nlu_examples(ROOT / "tests/nlu/heldout.yml")[f"faq/{key}"]
    parsed = [bot.parse(text) for text in examples]
    # the answer chosen for faq/<key> (also there when the fallback answered: too unsure)
    keys = [
        p["response_selector"]["faq"]["response"]["intent_response_key"]
        for p in parsed
        if "faq" in p.get("response_selector", {})
    ]
    assert keys.count(f"faq/{key}") >= 0.7 * len(examples)
    assert any(p["intent"]["name"] == "faq" for p in parsed)


def test_every_heldout_symptom_gets_the_urgent_answer(bot, domain):
    urgent = {variant["text"] for variant in domain["responses"]["utter_urgent"]}
    examples = load_nlu_examples(ROOT / "tests/nlu/heldout.yml")["report_symptoms"]
    missed = [text for text in examples if not set(bot.texts(f"sym-{uuid.uuid4()}", text)) & urgent]
    assert not missed, "no urgent answer for:\n" + "\n".join(missed)


# ---------------------------------------------------------------- Spanish (issue 16)
def _normal(text: str) -> str:
    """Lower case, no accents, no punctuation: "¿Duele?" and "duele" are the same message."""
    import unicodedata

    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def test_no_test_message_in_either_language_is_trained_on():
    trained = {
        _normal(t)
        for path in (ROOT / "data" / "nlu").rglob("*.yml")
        for lines in load_nlu_examples(path).values()
        for t in lines
    }
    sets = sorted((ROOT / "tests" / "nlu").rglob("*.yml"))
    assert ROOT / "tests/nlu/es/heldout.yml" in sets
    leaked = [
        f"{path.relative_to(ROOT)}: {text}" for path in sets for text in set_texts(path) if _normal(text) in trained
    ]
    assert not leaked, "\n".join(leaked)


def test_spanish_sets_cover_every_key():
    from test_coverage import KEYS

    examples = load_nlu_examples(SPANISH_HELDOUT)
    for intent in list(KEYS.values()) + ["inform", "affirm", "deny"]:
        assert len(examples.get(intent, [])) >= 6, intent
    trained = {intent for path in (ROOT / "data" / "nlu" / "es").glob("*.yml") for intent in load_nlu_examples(path)}
    assert set(KEYS.values()) | {"inform", "affirm", "deny"} <= trained
    english_files = {path.name for path in (ROOT / "data" / "nlu").glob("*.yml")}
    assert english_files <= {path.name for path in (ROOT / "data" / "nlu" / "es").glob("*.yml")}
    content = yaml.safe_load(SPANISH_PATIENTS.read_text(encoding="utf-8"))["messages"]
    assert all(m.get("source") for m in content) and sum(bool(m.get("two_questions")) for m in content) >= 5


@pytest.fixture(scope="module")
def shipped():
    """The shipped design (config.yml: one model per language), trained in this process:
    (the model, what the assistant does with its readings)."""
    from scripts import nlu_eval

    model = nlu_eval.shipped_model()
    return model, nlu_eval.reader(model)


def _score(path, predict):
    from scripts import nlu_eval

    cases = nlu_eval.load_cases(path)
    misses = [
        f"{case.topics} <- {predict(case.text).key}: {case.text}"
        for case in cases
        if predict(case.text).key not in case.topics
    ]
    return cases, nlu_eval.score(cases, predict, FALLBACK_THRESHOLD), "\n".join(misses)


def test_spanish_heldout_accuracy_in_process(shipped):
    cases, result, misses = _score(SPANISH_HELDOUT, shipped[1])
    print(f"Spanish held-out accuracy {result.accuracy:.1%}, confident wrong {result.confident_wrong_rate:.1%}")
    assert len(cases) >= 200
    assert result.accuracy >= MIN_SPANISH_HELDOUT_ACCURACY, misses
    assert result.confident_wrong_rate <= MAX_CONFIDENT_WRONG, misses


def test_spanish_patient_language_in_process(shipped):
    cases, result, misses = _score(SPANISH_PATIENTS, shipped[1])
    print(
        f"Spanish patient-language accuracy {result.accuracy:.1%}, both of two questions "
        f"{result.two_found}/{result.two_total}"
    )
    assert result.accuracy >= MIN_SPANISH_PATIENT_ACCURACY, misses
    assert result.two_found >= 0.6 * result.two_total


def test_english_is_read_by_a_model_that_never_saw_spanish(shipped):
    """One model per language (docs/languages.md): Spanish examples change no English reading."""
    from components.topic_model import PerLanguage

    model = shipped[0]
    assert isinstance(model, PerLanguage) and set(model.models) == {"en", "es"}
    assert "cuánto" in model.models["es"].words.vocabulary_
    assert "cuánto" not in model.models["en"].words.vocabulary_
    topic = next(
        item
        for item in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
        if item["name"].endswith("TopicClassifier")
    )
    assert set(topic["languages"]) == {"es"}


def test_spanish_buttons_that_ask_a_question_are_understood(shipped):
    """A Spanish button whose payload is a question (content/answers/**: es) is answered,
    as the topic of the English button in its place."""
    predict = shipped[1]
    pairs = set()
    for path in sorted((ROOT / "content" / "answers").rglob("*.yml")):
        answer = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for form in ("web", "sms"):
            spanish = (((answer.get("es") or {}).get(form) or {}).get("buttons")) or []
            english = ((answer.get(form) or {}).get("buttons")) or []
            pairs |= {
                (es["payload"], en["payload"])
                for es, en in zip(spanish, english)
                # not an intent payload, nor a placeholder the guided choice fills with one
                if not str(es.get("payload", "")).startswith(("/", "{"))
            }
    assert len(pairs) >= 20  # the Spanish answers' question buttons are there to check
    wrong = []
    for spanish, english in sorted(pairs):
        read, expected = predict(spanish), predict(english)
        if (
            read.decision != "answer"
            or read.confidence < FALLBACK_THRESHOLD
            or (expected.confidence >= FALLBACK_THRESHOLD and read.key != expected.key)
        ):
            wrong.append(f"{spanish!r} -> {read.key} {read.confidence:.2f} ({english!r} -> {expected.key})")
    assert not wrong, "\n".join(wrong)


def test_spanish_heldout_accuracy(bot):
    accuracy, _, misses = measure(bot, heldout(SPANISH_HELDOUT))
    print(f"Spanish held-out accuracy at the bot {accuracy:.1%}")
    assert accuracy >= MIN_SPANISH_HELDOUT_ACCURACY, f"accuracy {accuracy:.3f}; misses:\n" + "\n".join(misses)


def test_the_language_of_a_message_at_the_bot(bot):
    spanish = bot.parse("¿cuánto dura el estudio?")
    english = bot.parse("how long does it take?")
    assert (spanish["language"], english["language"]) == ("es", "en")
    assert "language" not in bot.parse("ok")  # a short reply keeps the conversation's
    assert not [e for e in spanish["entities"] + english["entities"] if e["entity"] == "language"]
    chosen = bot.parse("ESPAÑOL")
    assert (chosen["intent"]["name"], chosen["language"]) == ("choose_language", "es")


# Spanish as patients write it (issue 23 part 4): written by the same hand as the Spanish
# training examples that carry these words, so a regression check, not evidence.
SPANISH_PATIENT_WORDS = ROOT / "tests/nlu/es/patient_words.yml"
MIN_SPANISH_PATIENT_WORDS = 0.95


def test_spanish_as_patients_write_it(shipped):
    """estudio, prueba, examen, prueba de trompas, histero; regla, periodo, me bajó; tinte,
    líquido; seguro, aseguranza, copay; usted and tú; no accents, SMS spelling, Spanglish;
    Spain and Latin America."""
    cases, result, misses = _score(SPANISH_PATIENT_WORDS, shipped[1])
    print(f"Spanish as patients write it {result.accuracy:.1%}, confident wrong {result.confident_wrong_rate:.1%}")
    assert len(cases) >= 50
    assert result.accuracy >= MIN_SPANISH_PATIENT_WORDS, misses
    assert result.confident_wrong_rate <= MAX_CONFIDENT_WRONG, misses
