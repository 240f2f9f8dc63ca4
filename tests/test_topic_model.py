"""The topic model (components/topic_model.py) and its Rasa component, on small data."""

from __future__ import annotations

import pytest

from components.topic_model import TopicModel, asks, clauses

TRAIN = {
    "faq/pain": [
        "does it hurt",
        "is the hsg painful",
        "how much pain is there",
        "will it hurt a lot",
        "is it painful for most people",
        "does the exam hurt",
    ],
    "faq/duration": [
        "how long does it take",
        "how many minutes is the exam",
        "how long will i be there",
        "is it a long procedure",
        "how much time does the hsg take",
        "how long is the test",
    ],
    "faq/contrast": [
        "what is the dye",
        "what is the contrast made of",
        "where does the dye go",
        "is the contrast safe",
        "what kind of dye do they use",
        "tell me about the contrast liquid",
    ],
    "greet": ["hi", "hello", "hey there", "good morning", "hi there", "hello again"],
}
STORY = ["we have been trying for two years", "my doctor ordered an hsg", "i'm so nervous", "my appointment is friday"]


@pytest.fixture(scope="module")
def model():
    texts = [t for examples in TRAIN.values() for t in examples]
    labels = [label for label, examples in TRAIN.items() for _ in examples]
    return TopicModel(synonyms={"contrast": ["dye", "iodine dye"]}).fit(texts, labels, STORY)


def test_clauses_split_sentences_and_extra_questions():
    assert clauses("Hi, I'm nervous. Is the dye safe? Also will it hurt") == [
        "Hi, I'm nervous",
        "Is the dye safe",
        "Also will it hurt",
    ]
    assert clauses("how long does it take and can my husband come in") == [
        "how long does it take",
        "and can my husband come in",
    ]
    assert clauses("ok") == []


def test_asking_clauses_are_told_from_the_story():
    text = "we have been trying for two years. my doctor ordered an hsg. does it hurt"
    assert [asks(c, text) for c in clauses(text)] == [False, False, True]
    assert asks("the pain part", "the pain part? thanks")


def test_a_story_does_not_pull_the_question_off_its_topic(model):
    reading = model.read(
        "hi, we have been trying for two years and my doctor ordered an hsg, i'm so nervous. does it hurt?"
    )
    assert reading.label == "faq/pain" and reading.both is None


def test_two_questions_come_back_in_the_order_asked(model):
    assert model.read("Is the contrast safe? Also, how long does it take?").both == ("faq/contrast", "faq/duration")
    assert model.read("how long does it take? and does it hurt").both == ("faq/duration", "faq/pain")


def test_one_question_asked_twice_is_one_answer(model):
    assert model.read("does it hurt? is it painful?").both is None


def test_unsure_between_two_topics_only_when_close_and_both_answerable():
    model = TopicModel(unsure_below=0.6, unsure_margin=0.2, unsure_pair_min=0.5)
    assert model._unsure([("faq/pain", 0.4), ("faq/duration", 0.3), ("greet", 0.3)]) == ("faq/pain", "faq/duration")
    assert model._unsure([("faq/pain", 0.4), ("faq/duration", 0.1), ("greet", 0.5)]) is None  # not close
    assert model._unsure([("faq/pain", 0.7), ("faq/duration", 0.3)]) is None  # sure enough
    assert model._unsure([("faq/pain", 0.4), ("greet", 0.35)]) is None  # greet is no answer
    assert model._unsure([("faq/pain", 0.22), ("faq/duration", 0.2)]) is None  # both unlikely


def test_patient_words_add_their_canonical_word(model):
    assert model.expand("is the iodine dye safe") == "is the iodine dye safe contrast"
    assert model.expand("does it hurt") == "does it hurt"


def test_story_copies_are_training_examples_too():
    texts, labels = TRAIN["faq/pain"], ["faq/pain"] * len(TRAIN["faq/pain"])
    plain = TopicModel(story_copies=0).fit(texts + TRAIN["greet"], labels + ["greet"] * 6, STORY)
    storied = TopicModel(story_copies=2).fit(texts + TRAIN["greet"], labels + ["greet"] * 6, STORY)
    assert len(plain.words.vocabulary_) < len(storied.words.vocabulary_)  # the story words were seen


def test_the_rasa_component_answers_in_the_response_selector_format(model):
    from rasa.shared.nlu.training_data.message import Message

    from components.topic_classifier import TopicClassifier

    component = TopicClassifier(TopicClassifier.get_default_config(), None, None, model)
    one, two, payload = (
        Message(data={"text": t})
        for t in ("does the hsg hurt", "Is the contrast safe? Also, how long does it take?", "/faq/duration")
    )
    component.process([one, two, payload])
    assert one.get("intent")["name"] == "faq"
    selected = one.get("response_selector")["faq"]["response"]
    assert selected["intent_response_key"] == "faq/pain" and selected["utter_action"] == "utter_faq/pain"
    modes = {m: [(e["entity"], e["value"]) for e in m.get("entities")] for m in (one, two, payload)}
    assert modes[one] == []
    assert modes[two] == [("faq_mode", "two"), ("topic", "contrast"), ("topic", "duration")]
    assert payload.get("intent")["confidence"] == 1.0
    assert payload.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/duration"


# ---------------------------------------------------------------- Spanish (issue 16)
TRAIN_ES = {
    "faq/pain": [
        "duele",
        "es doloroso el hsg",
        "cuanto duele el estudio",
        "me va a doler mucho",
        "duele mucho la histerosalpingografía",
        "el estudio es doloroso",
    ],
    "faq/duration": [
        "cuánto dura",
        "cuanto tiempo tarda el estudio",
        "cuántos minutos es el examen",
        "es largo el estudio",
        "cuanto dura la histerosalpingografía",
        "tarda mucho",
    ],
    "faq/contrast": [
        "qué es el tinte",
        "de qué está hecho el contraste",
        "a dónde va el tinte",
        "es seguro el contraste",
        "que tinte usan",
        "el líquido de contraste",
    ],
    "greet": ["hola", "buenos días", "buenas tardes", "qué tal", "buenas", "hola buenas"],
}
STORY_ES = [
    "llevamos dos años buscando bebé",
    "mi doctora me mandó el hsg",
    "estoy muy nerviosa",
    "mi cita es el viernes",
]


def _fit(train, story, synonyms=None):
    texts = [t for examples in train.values() for t in examples]
    labels = [label for label, examples in train.items() for _ in examples]
    return TopicModel(synonyms=synonyms or {}).fit(texts, labels, story)


@pytest.fixture(scope="module")
def spanish_model():
    return _fit(TRAIN_ES, STORY_ES, {"contraste": ["tinte"]})


def test_spanish_clauses_split_at_question_marks_and_spanish_link_words():
    assert clauses("Hola, estoy nerviosa. ¿Es seguro el tinte? ¿Y cuánto dura?") == [
        "Hola, estoy nerviosa",
        "Es seguro el tinte",
        "Y cuánto dura",
    ]
    assert clauses("cuanto dura el estudio y también puede entrar mi esposo") == [
        "cuanto dura el estudio",
        "también puede entrar mi esposo",
    ]  # the lone "y" is dropped
    assert clauses("es seguro el contraste además duele mucho?") == ["es seguro el contraste", "además duele mucho"]
    assert clauses("¿duele? otra pregunta: cuánto dura") == ["otra pregunta", "cuánto dura"]
    # no question word with its accent: the story goes on, no cut
    assert clauses("me bajó el lunes y como estoy nerviosa no sé") == ["me bajó el lunes y como estoy nerviosa no sé"]


def test_spanish_asking_clauses_are_told_from_the_story():
    text = "llevamos dos años buscando bebé. mi doctora me mandó el hsg. q tanto duele"
    assert [asks(c, text) for c in clauses(text)] == [False, False, True]
    assert asks("la parte del tinte", "¿la parte del tinte")  # an opening ¿ is a question
    assert asks("es normal manchar", "es normal manchar")
    assert not asks("tengo fiebre desde ayer", "tengo fiebre desde ayer")


def test_a_spanish_story_does_not_pull_the_question_off_its_topic(spanish_model):
    reading = spanish_model.read(
        "hola, llevamos dos años buscando bebé y mi doctora me mandó el hsg, estoy muy nerviosa. ¿duele mucho?"
    )
    assert reading.label == "faq/pain" and reading.both is None


def test_two_spanish_questions_come_back_in_the_order_asked(spanish_model):
    assert spanish_model.read("¿Es seguro el tinte? Además, ¿cuánto dura?").both == ("faq/contrast", "faq/duration")
    assert spanish_model.read("cuanto tiempo tarda el estudio? y también duele mucho?").both == (
        "faq/duration",
        "faq/pain",
    )


def test_each_language_gets_its_own_story_sentences():
    texts = TRAIN["faq/pain"] + TRAIN_ES["faq/pain"]
    labels = ["faq/pain"] * len(texts)
    languages = ["en"] * len(TRAIN["faq/pain"]) + ["es"] * len(TRAIN_ES["faq/pain"])
    both = TopicModel(story_copies=3).fit(
        texts + ["hi", "hola"], labels + ["greet", "greet"], {"en": STORY, "es": STORY_ES}, languages + ["en", "es"]
    )
    vocabulary = set(both.words.vocabulary_)
    assert {"nerviosa", "viernes"} <= vocabulary and {"nervous", "friday"} <= vocabulary
    english_only = TopicModel(story_copies=3).fit(
        TRAIN["faq/pain"] + ["hi"], ["faq/pain"] * 6 + ["greet"], {"en": STORY, "es": STORY_ES}
    )  # no languages: English
    assert "nerviosa" not in english_only.words.vocabulary_


def test_per_language_reads_with_the_model_of_the_language(model, spanish_model):
    from components.topic_model import PerLanguage

    seen = []

    def detect(text):
        seen.append(text)
        return {"does it hurt": "en", "cuanto dura el estudio": "es"}.get(text)

    both = PerLanguage({"en": model, "es": spanish_model}, detect)
    assert both.read("does it hurt").label == "faq/pain"
    assert both.read("cuanto dura el estudio").label == "faq/duration"
    assert set(both.labels_) == set(model.labels_) | set(spanish_model.labels_)
    unsure = both.read("hola")  # None: the surer of the two models
    assert unsure.label == "greet"
    assert unsure.confidence == max(model.read("hola").confidence, spanish_model.read("hola").confidence)


def test_the_rasa_component_trains_one_model_per_language(tmp_path):
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.topic_classifier import TopicClassifier
    from components.topic_model import PerLanguage

    examples = []
    for train, language in ((TRAIN, None), (TRAIN_ES, "es")):
        for label, texts in train.items():
            intent, _, key = label.partition("/")
            for text in texts:
                data = {"text": text, "intent": intent}
                if key:
                    data["intent_response_key"] = label
                if language:
                    data["metadata"] = {"intent": {"language": language}}
                examples.append(Message(data=data))

    class Storage:
        def write_to(self, resource):
            import contextlib

            @contextlib.contextmanager
            def folder():
                yield tmp_path

            return folder()

    config = {
        **TopicClassifier.get_default_config(),
        "story_copies": 1,
        "languages": {
            "es": {"story_file": "components/context_sentences_es.yml", "words_file": "components/patient_words_es.yml"}
        },
    }
    component = TopicClassifier(config, Storage(), None)
    component.train(TrainingData(training_examples=examples))
    assert isinstance(component.model, PerLanguage) and set(component.model.models) == {"en", "es"}
    assert "cuánto dura" not in " ".join(component.model.models["en"].words.vocabulary_)
    assert "buenos" in component.model.models["es"].words.vocabulary_
    assert "buenos" not in component.model.models["en"].words.vocabulary_
    spanish, english = (
        Message(data={"text": "¿cuánto tiempo tarda el estudio?"}),
        Message(data={"text": "does the hsg hurt"}),
    )
    component.process([spanish, english])
    assert spanish.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/duration"
    assert english.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/pain"
    assert (tmp_path / "topic_model.pkl").exists()


def test_spanish_opening_marks_do_not_change_a_reading(spanish_model):
    assert (
        spanish_model.probabilities(["¿cuánto dura?"]).tolist()
        == spanish_model.probabilities([" cuánto dura?"]).tolist()
    )
    assert spanish_model.read("¿cuánto dura?").label == "faq/duration"


# ---------------------------------------------------------------- the guided choice (issue 23)
def test_the_likely_topics_are_those_within_a_share_of_the_best_at_most_three():
    model = TopicModel(candidate_ratio=0.2, candidate_floor=0.05, max_candidates=3)
    ranking = [("faq/pain", 0.40), ("greet", 0.2), ("faq/duration", 0.12), ("timing", 0.09), ("faq/contrast", 0.07)]
    # greet is no topic; timing has its own answer; a fourth topic is never offered
    assert model.candidates(ranking) == ["faq/pain", "faq/duration", "timing"]
    assert model.candidates([("faq/pain", 0.50), ("faq/duration", 0.09), ("faq/contrast", 0.08)]) == ["faq/pain"]
    assert model.candidates([("faq/pain", 0.20), ("faq/duration", 0.045)]) == ["faq/pain"]  # under the floor
    assert model.candidates([("greet", 0.9), ("out_of_scope", 0.1)]) == []
    assert TopicModel(max_candidates=1).candidates(ranking) == ["faq/pain"]


def test_a_message_that_may_describe_a_symptom_offers_the_warning_signs_first():
    """Safety: the symptom report's share counts for the warning-signs answer (when to
    call, 911), so an unsure message that may be a symptom offers it."""
    model = TopicModel()
    ranking = [("report_symptoms", 0.45), ("faq/results", 0.40), ("faq/warning_signs", 0.02), ("greet", 0.01)]
    assert model.candidates(ranking) == ["faq/warning_signs", "faq/results"]
    assert model.candidates([("faq/results", 0.9), ("report_symptoms", 0.0)]) == ["faq/results"]


def test_a_message_is_about_the_hsg_by_its_words_or_by_the_topics_weight():
    model = TopicModel(vocabulary=["dye", "estudio", r"hyst\w*salp\w*"], hsg_mass=0.5)
    elsewhere = [("out_of_scope", 0.7), ("faq/pain", 0.2), ("greet", 0.1)]
    assert model.about_hsg("is the dye safe for me", elsewhere)
    assert model.about_hsg("me da miedo el estudio", elsewhere)
    assert model.about_hsg("my hysterosalpingogram is friday", elsewhere)
    assert not model.about_hsg("what's the weather tomorrow", elsewhere)
    assert not model.about_hsg("the dyer street office", elsewhere)  # whole words only
    assert model.about_hsg("will it hurt a lot", [("faq/pain", 0.4), ("timing", 0.15), ("greet", 0.45)])


@pytest.mark.parametrize(
    "text",
    [
        "my HSG is tomorrow and I'm terrified",
        "we have been trying for two years and my doctor finally ordered the test",
        "I had mine last week and the cramping was awful for a day",
        "mañana es mi estudio y tengo mucho miedo",
        "ya me hicieron la histerosalpingografía y no me dolió nada",
        "llevamos dos años buscando bebé y la doctora me mandó el estudio",
    ],
)
def test_a_story_asks_nothing(text):
    from components.topic_model import asks_something, is_story

    assert is_story(text) and not asks_something(text)


@pytest.mark.parametrize(
    "text",
    [
        "my HSG is tomorrow, does it hurt",
        "my HSG is tomorrow and I'm terrified. Any tips?",
        "my HSG is tomorrow and I'm wondering how long it takes",
        "I was wondering whether the dye is safe",
        "how long does it take",
        "mañana es mi estudio, ¿duele mucho",
        "mañana es mi estudio y quisiera saber cuánto dura",
        "tengo miedo, me pueden explicar qué hacen",
        "dye allergy",  # a question put short, not a story
        "the dye and breastfeeding and antibiotics",  # a list of things, nobody's story
        "quick question on the cost and my husband",
        "tengo una duda sobre el costo y mi esposo",
        "cuánto cuesta",
    ],
)
def test_a_question_or_a_short_message_is_no_story(text):
    from components.topic_model import is_story

    assert not is_story(text)


def test_an_unsure_reading_names_its_likely_topics_and_whether_it_is_a_story(model):
    # trained on pain, duration, contrast and greet only: a story about the exam is unsure
    reading = model.read("my appointment is friday and i keep thinking about the exam")
    assert reading.unsure(0.55) and reading.story
    assert 1 <= len(reading.candidates) <= 3 and all(c.startswith("faq/") for c in reading.candidates)
    assert reading.candidates[0] == next(label for label, _ in reading.ranking if label.startswith("faq/"))
    sure = model.read("does it hurt?")
    assert not sure.unsure(0.55) and not sure.story


def test_the_rasa_component_offers_the_likely_topics_when_unsure():
    from rasa.shared.nlu.training_data.message import Message

    from components.topic_classifier import TopicClassifier

    class Unsure:
        labels_ = ["faq/pain", "faq/duration", "faq/contrast", "greet", "out_of_scope"]

        def __init__(self, reading):
            self.reading = reading

        def read(self, text):
            return self.reading

    from components.topic_model import Reading

    ranking = [("faq/pain", 0.35), ("faq/duration", 0.3), ("greet", 0.2), ("faq/contrast", 0.15)]
    cases = {
        "choose": Reading("faq/pain", 0.35, ranking, candidates=["faq/pain", "faq/duration"], about_hsg=True),
        "story": Reading("faq/pain", 0.35, ranking, candidates=["faq/pain"], about_hsg=True, story=True),
        "elsewhere": Reading("faq/pain", 0.35, ranking, candidates=["faq/pain"], about_hsg=False),
        "sure": Reading("faq/pain", 0.9, ranking, candidates=["faq/pain"], about_hsg=True),
    }
    found = {}
    for name, reading in cases.items():
        message = Message(data={"text": "anything"})
        TopicClassifier(TopicClassifier.get_default_config(), None, None, Unsure(reading)).process([message])
        found[name] = [(e["entity"], e["value"]) for e in message.get("entities")]
        assert message.get("intent")["name"] == "faq"
    assert found["choose"] == [("faq_mode", "choose"), ("topic", "pain"), ("topic", "duration")]
    assert found["story"] == [("faq_mode", "story"), ("topic", "pain")]
    assert found["elsewhere"] == [] and found["sure"] == []


def test_the_guided_choice_and_the_fallback_share_one_threshold():
    """The topic model's `unsure_below` is the FallbackClassifier's threshold: below it the
    message is nlu_fallback, and the model has named its likely topics for it."""
    import yaml
    from conftest import ROOT

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    topic = next(c for c in pipeline if c["name"].endswith("TopicClassifier"))
    fallback = next(c for c in pipeline if c["name"] == "FallbackClassifier")
    assert topic["unsure_below"] == fallback["threshold"]


def test_a_topic_below_its_language_band_gets_the_guided_choice_and_other_intents_do_not():
    """choose_below (config.yml, per language): a topic as the top guess below it is unsure;
    yes, no, a date or hello keep the fallback threshold (unsure_below)."""
    model = TopicModel(unsure_below=0.55, choose_below=0.7)
    assert model.threshold_for("faq/pain") == 0.7
    assert model.threshold_for("timing") == 0.55  # a topic intent with its own route keeps the fallback's
    assert model.threshold_for("affirm") == 0.55 and model.threshold_for("inform") == 0.55
    assert TopicModel(unsure_below=0.55).threshold_for("faq/pain") == 0.55  # no band: the fallback's
    assert TopicModel(unsure_below=0.55, choose_below=0.5).threshold_for("faq/pain") == 0.55  # never below it


def test_the_rasa_component_uses_the_reading_language_band():
    from rasa.shared.nlu.training_data.message import Message

    from components.topic_classifier import TopicClassifier
    from components.topic_model import Reading

    class One:
        labels_ = ["faq/pain", "faq/duration", "affirm"]

        def __init__(self, reading):
            self.reading = reading

        def read(self, text):
            return self.reading

    ranking = [("faq/pain", 0.62), ("faq/duration", 0.2), ("affirm", 0.18)]
    found = {}
    for name, threshold in (("band 0.7", 0.7), ("band 0.6", 0.6)):
        reading = Reading("faq/pain", 0.62, ranking, candidates=["faq/pain"], about_hsg=True, threshold=threshold)
        message = Message(data={"text": "anything"})
        TopicClassifier(TopicClassifier.get_default_config(), None, None, One(reading)).process([message])
        found[name] = [(e["entity"], e["value"]) for e in message.get("entities")]
        assert message.get("intent")["name"] == "faq"  # above the fallback threshold either way
    assert found["band 0.7"] == [("faq_mode", "choose"), ("topic", "pain")]
    assert found["band 0.6"] == []


def test_each_language_band_is_at_or_above_the_fallback_threshold_and_is_read_by_its_model():
    import yaml
    from conftest import ROOT

    from components.topic_classifier import TopicClassifier

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    topic = next(c for c in pipeline if c["name"].endswith("TopicClassifier"))
    fallback = next(c for c in pipeline if c["name"] == "FallbackClassifier")["threshold"]
    config = {**TopicClassifier.get_default_config(), **{k: v for k, v in topic.items() if k != "name"}}
    component = TopicClassifier(config, None, None)
    for language in ["en"] + sorted(topic.get("languages") or {}):
        band = (topic.get("languages") or {}).get(language, {}).get("choose_below", topic.get("choose_below"))
        assert band is None or band >= fallback, language
        model = component._new_model({}, language)
        assert model.unsure_below == fallback and model.choose_below == band, language


def test_a_model_without_its_topic_model_is_refused_when_it_loads(tmp_path):
    """Review L7: a model archive without the topic model's file used to load with a
    warning, and then every message failed in Rasa's FallbackClassifier (KeyError)."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.exceptions import RasaException

    from components.topic_classifier import TopicClassifier

    storage = LocalModelStorage(tmp_path)
    with pytest.raises(RasaException, match="make train"):
        TopicClassifier.load(TopicClassifier.get_default_config(), storage, Resource("topic_classifier"), None)


def test_probabilities_read_the_coefficients_in_place_with_the_classifiers_own_numbers():
    """The per-message copy of every coefficient (scipy copies a non-contiguous dense
    operand) is gone: kept in Fortran order, the same numbers as sklearn's own
    predict_proba on the coefficients as it learned them."""
    import numpy as np

    texts = [t for examples in TRAIN.values() for t in examples]
    labels = [label for label, examples in TRAIN.items() for _ in examples]
    fresh = TopicModel().fit(texts, labels, STORY)
    asked = ["does it hurt? and how long is it", "what is the dye", "hello", "ok"]
    assert not fresh.classifier.coef_.T.flags.c_contiguous  # as sklearn leaves it: a slice, copied per product
    expected = fresh.classifier.predict_proba(fresh._features(asked))
    got = fresh.probabilities(asked)
    assert fresh.classifier.coef_.flags.f_contiguous
    assert fresh.classifier.coef_.T.flags.c_contiguous  # what scipy reads without a copy
    assert np.array_equal(got, expected)


# ---------------------------------------------------------------- stories without a question (issue 23 part 5)
def _situations():
    import yaml
    from conftest import ROOT

    return yaml.safe_load((ROOT / "components" / "story_topics.yml").read_text(encoding="utf-8"))["situations"]


def _story(label, confidence, candidates=(), ranking=None):
    from components.topic_model import Reading

    ranking = ranking or [(label, confidence)] + [(c, 0.05) for c in candidates if c != label]
    return Reading(label, confidence, ranking, candidates=list(candidates), about_hsg=True, story=True)


@pytest.mark.parametrize(
    "text",
    [
        "my HSG is tomorrow and I'm terrified",
        "tengo la histero mañana y estoy muerta de miedo",
        "so nervous about my hsg on friday",
        "ando bien nerviosa x la prueba de trompas",
    ],
)
def test_fear_before_the_exam_offers_pain_what_happens_and_pain_relief(text):
    """What the model cannot know (a story's words weigh on no topic), the story's
    situation says: not the warning signs the symptom vote alone gave before."""
    model = TopicModel(story_situations=_situations())
    reading = _story("out_of_scope", 0.34, ["faq/warning_signs"], [("out_of_scope", 0.34), ("report_symptoms", 0.15)])
    assert model.story_topics(text, reading) == ["faq/pain", "faq/procedure_steps", "faq/pain_relief"]


@pytest.mark.parametrize(
    "text, first",
    [
        ("just had my hsg, both tubes open!!", "faq/results"),
        ("me hicieron la histero y las trompas salieron bien", "faq/results"),
        ("had it this morning, left tube blocked", "faq/abnormal_findings"),
        ("I got my HSG done last week. Everything looked good, thank God.", "faq/results"),
    ],
)
def test_news_after_the_exam_offers_results_and_what_follows(text, first):
    model = TopicModel(story_situations=_situations())
    offered = model.story_topics(text, _story(first, 0.91, [first]))
    assert offered[0] == first and len(offered) == 3
    assert {"faq/therapeutic_flushing", "faq/results"} & set(offered[1:])


def test_after_the_exam_the_warning_signs_are_offered_with_what_is_normal():
    model = TopicModel(story_situations=_situations())
    offered = model.story_topics("had my hsg yesterday and I'm a bit scared", _story("faq/pain", 0.3, ["faq/pain"]))
    assert offered == ["faq/pain", "faq/aftercare", "faq/warning_signs"]


def test_a_story_with_a_concern_of_its_own_keeps_its_answer():
    """A sure reading that is none of the situation's topics is the patient's concern
    ("I'm allergic to iodine and my HSG is tomorrow"): answered, no guided choice; nor a
    sure date, symptom or device reading."""
    model = TopicModel(story_situations=_situations())
    text = "I'm allergic to iodine and my HSG is tomorrow"
    assert model.story_topics(text, _story("faq/contrast_allergy", 0.98)) == []
    assert model.story_topics("my hsg is tomorrow and I'm bleeding a lot", _story("report_symptoms", 0.9)) == []
    assert model.story_topics("my period started Nov 3 and my hsg is next week", _story("timing", 0.8)) == []
    assert model.story_topics("we have been trying for two years", _story("faq/pain", 0.3)) == []  # no situation


def test_a_story_the_model_may_read_as_a_symptom_still_offers_the_warning_signs():
    model = TopicModel(story_situations=_situations())
    reading = _story("report_symptoms", 0.19, ["faq/warning_signs"], [("report_symptoms", 0.19)])
    offered = model.story_topics("tengo la histero mañana y estoy muerta de miedo", reading)
    assert offered == ["faq/pain", "faq/procedure_steps", "faq/warning_signs"]


def test_a_long_story_keeps_the_topics_the_model_names():
    model = TopicModel(story_situations=_situations())
    ranking = [("faq/support_person", 0.4), ("faq/pain", 0.2), ("faq/warning_signs", 0.2), ("greet", 0.1)]
    reading = _story("faq/support_person", 0.4, ["faq/support_person", "faq/warning_signs", "faq/pain"], ranking)
    offered = model.story_topics("I'm so nervous, my husband cannot come with me to the hsg tomorrow", reading)
    assert offered == ["faq/support_person", "faq/pain", "faq/procedure_steps"]


def test_the_story_situations_name_real_topics():
    from common.settings import topic_labels

    labels = topic_labels()
    for situation in _situations():
        assert situation["name"] and situation["words"] and 1 <= len(situation["topics"]) <= 3
        assert all(key in labels for key in situation["topics"]), situation["name"]


def test_the_rasa_component_gives_a_story_its_topics_even_when_sure():
    from rasa.shared.nlu.training_data.message import Message

    from components.topic_classifier import TopicClassifier

    class Sure:
        labels_ = ["faq/results", "faq/therapeutic_flushing", "greet"]

        def read(self, text):
            reading = _story("faq/results", 0.91, ["faq/results"])
            reading.story_topics = ["faq/results", "faq/therapeutic_flushing"]
            return reading

    message = Message(data={"text": "just had my hsg, both tubes open!!"})
    TopicClassifier(TopicClassifier.get_default_config(), None, None, Sure()).process([message])
    assert message.get("intent")["name"] == "faq"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [
        ("faq_mode", "story"),
        ("topic", "results"),
        ("topic", "therapeutic_flushing"),
    ]
