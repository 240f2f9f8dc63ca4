"""The topic model (components/topic_model.py) and its Rasa component, on small data."""
from __future__ import annotations

import pytest

from components.topic_model import TopicModel, asks, clauses

TRAIN = {
    "faq/pain": ["does it hurt", "is the hsg painful", "how much pain is there", "will it hurt a lot",
                 "is it painful for most people", "does the exam hurt"],
    "faq/duration": ["how long does it take", "how many minutes is the exam", "how long will i be there",
                     "is it a long procedure", "how much time does the hsg take", "how long is the test"],
    "faq/contrast": ["what is the dye", "what is the contrast made of", "where does the dye go",
                     "is the contrast safe", "what kind of dye do they use", "tell me about the contrast liquid"],
    "greet": ["hi", "hello", "hey there", "good morning", "hi there", "hello again"],
}
STORY = ["we have been trying for two years", "my doctor ordered an hsg", "i'm so nervous", "my appointment is friday"]


@pytest.fixture(scope="module")
def model():
    texts = [t for examples in TRAIN.values() for t in examples]
    labels = [label for label, examples in TRAIN.items() for _ in examples]
    return TopicModel(synonyms={"contrast": ["dye", "iodine dye"]}).fit(texts, labels, STORY)


def test_clauses_split_sentences_and_extra_questions():
    assert clauses("Hi, I'm nervous. Is the dye safe? Also will it hurt") == \
        ["Hi, I'm nervous", "Is the dye safe", "Also will it hurt"]
    assert clauses("how long does it take and can my husband come in") == \
        ["how long does it take", "and can my husband come in"]
    assert clauses("ok") == []


def test_asking_clauses_are_told_from_the_story():
    text = "we have been trying for two years. my doctor ordered an hsg. does it hurt"
    assert [asks(c, text) for c in clauses(text)] == [False, False, True]
    assert asks("the pain part", "the pain part? thanks")


def test_a_story_does_not_pull_the_question_off_its_topic(model):
    reading = model.read("hi, we have been trying for two years and my doctor ordered an hsg, "
                         "i'm so nervous. does it hurt?")
    assert reading.label == "faq/pain" and reading.both is None


def test_two_questions_come_back_in_the_order_asked(model):
    assert model.read("Is the contrast safe? Also, how long does it take?").both == ("faq/contrast", "faq/duration")
    assert model.read("how long does it take? and does it hurt").both == ("faq/duration", "faq/pain")


def test_one_question_asked_twice_is_one_answer(model):
    assert model.read("does it hurt? is it painful?").both is None


def test_unsure_between_two_topics_only_when_close_and_both_answerable():
    model = TopicModel(unsure_below=0.6, unsure_margin=0.2, unsure_pair_min=0.5)
    assert model._unsure([("faq/pain", 0.4), ("faq/duration", 0.3), ("greet", 0.3)]) == ("faq/pain", "faq/duration")
    assert model._unsure([("faq/pain", 0.4), ("faq/duration", 0.1), ("greet", 0.5)]) is None   # not close
    assert model._unsure([("faq/pain", 0.7), ("faq/duration", 0.3)]) is None                    # sure enough
    assert model._unsure([("faq/pain", 0.4), ("greet", 0.35)]) is None                          # greet is no answer
    assert model._unsure([("faq/pain", 0.22), ("faq/duration", 0.2)]) is None                   # both unlikely


def test_patient_words_add_their_canonical_word(model):
    assert model.expand("is the iodine dye safe") == "is the iodine dye safe contrast"
    assert model.expand("does it hurt") == "does it hurt"


def test_story_copies_are_training_examples_too():
    texts, labels = TRAIN["faq/pain"], ["faq/pain"] * len(TRAIN["faq/pain"])
    plain = TopicModel(story_copies=0).fit(texts + TRAIN["greet"], labels + ["greet"] * 6, STORY)
    storied = TopicModel(story_copies=2).fit(texts + TRAIN["greet"], labels + ["greet"] * 6, STORY)
    assert len(plain.words.vocabulary_) < len(storied.words.vocabulary_)   # the story words were seen


def test_the_rasa_component_answers_in_the_response_selector_format(model):
    from rasa.shared.nlu.training_data.message import Message

    from components.topic_classifier import TopicClassifier

    component = TopicClassifier(TopicClassifier.get_default_config(), None, None, model)
    one, two, payload = (Message(data={"text": t}) for t in
                         ("does the hsg hurt", "Is the contrast safe? Also, how long does it take?", "/faq/duration"))
    component.process([one, two, payload])
    assert one.get("intent")["name"] == "faq"
    selected = one.get("response_selector")["faq"]["response"]
    assert selected["intent_response_key"] == "faq/pain" and selected["utter_action"] == "utter_faq/pain"
    modes = {m: [(e["entity"], e["value"]) for e in m.get("entities")] for m in (one, two, payload)}
    assert modes[one] == []
    assert modes[two] == [("faq_mode", "two"), ("topic", "contrast"), ("topic", "duration")]
    assert payload.get("intent")["confidence"] == 1.0
    assert payload.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/duration"
