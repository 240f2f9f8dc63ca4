"""Makes sure a described symptom always reaches the urgent answer.

Runs last in the NLU pipeline. When the message describes a red-flag symptom
(safety/red_flags.yml) and the model chose another intent, the intent becomes
`report_symptoms`. It removes an urgent answer in one case only: the model chose
`report_symptoms`, but the message names the red flag only as someone else's or as
something heard or read, and never names the patient ("my friend said she nearly
passed out"); that message is then not understood (`nlu_fallback`). Hearsay is not a
symptom (issue 22), and on the safety sets the rules alone find every urgent message.

The message is judged clause by clause: "I have a fever of 102, what if it's an
infection?" is urgent by its first clause, whatever the question after it. The
words (patterns, thresholds, spellings) are data in safety/red_flags.yml; this
module only applies them. It never logs the text of a message.

Other languages: the patterns file names further files of the same format under
`other_languages` (safety/red_flags_es.yml for Spanish). Every message is judged by
every language's rules, whatever language the conversation is in, and is urgent when
any of them finds a red flag: a Spanish rule never silences an English one.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Pattern, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
URGENT_INTENT = "report_symptoms"
# What the model's "symptom report" becomes when the rules see only someone else's symptom:
# the message is not understood (the fallback's topic choices), never a confident answer.
NOT_ABOUT_THE_PATIENT = "nlu_fallback"
ROOT = Path(__file__).resolve().parent.parent  # a relative patterns_file is read from here
# Rasa's intent payloads ("/affirm", '/choose_language{"language":"es"}', "/faq/duration",
# from buttons) are not a patient's words; any other text starting with "/" is judged.
PAYLOAD = re.compile(r"^/[\w/-]+(@[0-9.]+)?(\{.*\})?$", re.DOTALL)

# How a clause is tied to the one before it in the same sentence (clause.link).
FIRST = "first"  # starts a sentence: nothing carries over
NEW = "new"  # "but ...", "should I ...": nothing carries over
CONTINUED = "continued"  # ", and then ...": same subject, same "what if", same time
PATIENT = "patient"  # "... i have ...": a new statement, same time ("years ago, I ...")
_LINK_RANK = {NEW: 3, CONTINUED: 2, PATIENT: 1}

# Who a red flag is about (people in red_flags.yml).
SELF, CARER, OTHERS = "patient", "carer", "others"


@dataclass(frozen=True)
class Clause:
    """A piece of a normalized message."""

    text: str
    start: int  # offset in the normalized message
    link: str  # FIRST, NEW, CONTINUED or PATIENT
    question: bool


@dataclass(frozen=True)
class _Judged:
    """What a clause passes on to the next clause of its sentence."""

    urgent: bool
    hypothetical: bool  # a "what if", a fear or hearsay: what follows is not happening now
    over_patient: bool  # ...that also covers a continued clause naming the patient
    past: bool  # old history or a habit
    who: Optional[str]


@dataclass(frozen=True)
class _Flag:
    name: str
    patterns: List[Pattern]
    unless: List[Pattern]
    needs: Optional[Pattern]

    def applies(self, text: str) -> bool:
        """False when the clause has an `unless` word or lacks a `needs` word."""
        if any(rx.search(text) for rx in self.unless):
            return False
        return self.needs is None or bool(self.needs.search(text))


def _compile(pattern: str) -> Pattern:
    return re.compile(pattern)


def _fold_accents(text: str) -> str:
    """ "Desmayé" -> "desmaye", "ñ" -> "n": accents become optional."""
    return "".join(char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn")


def _words_rx(variants: Dict[str, str]) -> Optional[Pattern]:
    """One pattern for whole-word variants, longest first (None when there are none)."""
    if not variants:
        return None
    alternatives = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<![\w'])({alternatives})(?![\w'])")


def _last(matches: Iterator[re.Match[str]]) -> Optional[re.Match[str]]:
    """The last of some regular-expression matches, or None."""
    found = None
    for found in matches:  # noqa: B007 - only the last one is wanted
        pass
    return found


class RedFlags:
    """The red flags of a patterns file, judged clause by clause (no Rasa types).

    A file may name files for other languages (`other_languages`); they are loaded
    too and `is_urgent` is true when any language's rules find a red flag.
    """

    def __init__(self, path: Path, *, _with_other_languages: bool = True) -> None:
        path = Path(path)
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.code = str(spec.get("language") or "en")
        self._fold = bool(spec.get("fold_accents"))
        variants = {variant.lower(): correct for correct, words in spec["spelling"].items() for variant in words}
        # Variants written with an accent ("sí") are matched as written, before the
        # accents are folded; the others after it (on text without accents).
        self._exact = {v: c for v, c in variants.items() if self._fold and not v.isascii()}
        self._spelling = {
            (_fold_accents(v) if self._fold else v): c for v, c in variants.items() if v not in self._exact
        }
        self._exact_rx = _words_rx(self._exact)
        self._spelling_rx = _words_rx(self._spelling)
        self._load_clauses(spec)
        self._load_people_and_flags(spec)
        self._others: List[RedFlags] = []
        if _with_other_languages:
            self._others = [
                RedFlags(path.parent / name, _with_other_languages=False)
                for name in (spec.get("other_languages") or {}).values()
            ]

    def _load_clauses(self, spec: Dict[str, Any]) -> None:
        """How a message is cut into clauses, and the words that make a clause a question,
        a negation, a "what if", hearsay, history or a habit."""
        clauses = spec["clauses"]
        self._sentence_end = _compile(clauses["sentence_end"])
        self._new = [_compile(p) for p in clauses["new"]]
        self._continued = _compile(clauses["continued"])
        self._patient_starts = _compile(clauses["patient_starts"])
        self._tied = set(clauses["patient_starts_tied_to"].lower().split())
        # optional: no such cut after these words in the same sentence ("si mañana tengo")
        not_after = clauses.get("patient_starts_not_after")
        self._patient_not_after = _compile(not_after) if not_after else None
        self._fillers = _compile(clauses["fillers"])
        self._question = _compile(spec["question_start"])
        self._question_mark_words = _compile(spec["question_mark_words"])
        self._during_the_exam = _compile(spec["during_the_exam"])
        self._personal = _compile(spec["personal"])
        self._negation = _compile(spec["negation"])
        self._not_a_negation = _compile(spec["not_a_negation"])
        # optional: a negation right after the red flag ("fiebre no, solo cansancio")
        self._negation_after = _compile(spec["negation_after"]) if spec.get("negation_after") else None
        self._hypothetical = _compile(spec["hypothetical"])
        # optional: the "what if" words whose frame goes on into a continued clause that
        # names the patient (Spanish "¿qué pasa si me da fiebre, y luego me desmayo?": the
        # verb names her); other frames (a cause, hearsay) stop at the patient's own words
        over = spec.get("hypothetical_carries_over_patient")
        self._over_patient = _compile(over) if over else None
        self._reported = _compile(spec["reported"])
        # the patient's own statements, which end hearsay (patient_starts, and optional words)
        self._own = [self._patient_starts] + ([_compile(spec["own_words"])] if spec.get("own_words") else [])
        self._as_a_topic = _compile(spec["as_a_topic"])
        self._history = _compile(spec["history"])
        self._habit = _compile(spec["habit"])

    def _load_people_and_flags(self, spec: Dict[str, Any]) -> None:
        """Who a red flag is about (the patient, a carer, others), and the red flags."""
        people = spec["people"]
        self._people = _compile(
            "|".join(
                f"(?P<{group}>{people[key]})"
                for group, key in (
                    ("carer", "carer"),
                    ("others", "others"),
                    ("pronoun", "pronouns"),
                    ("patient", "patient"),
                )
            )
        )
        self._named = _compile(f"(?P<carer>{people['carer']})|(?P<others>{people['others']})")
        self._flags = [
            _Flag(
                flag["name"],
                [_compile(p) for p in flag["patterns"]],
                [_compile(p) for p in flag.get("unless") or []],
                _compile(flag["needs"]) if flag.get("needs") else None,
            )
            for flag in spec["red_flags"]
        ]

    # ------------------------------------------------------------ public
    def is_urgent(self, text: Text) -> bool:
        """True when the message describes a worrying symptom the patient has or had,
        in the words of any of the languages."""
        return any(rules.describes_red_flag(text) for rules in [self] + self._others)

    def about_someone_else(self, text: Text) -> bool:
        """True when the message names a red flag only as something that happened to someone
        else, or was heard or read ("my friend said she nearly passed out"), and never names
        the patient or a carer: no language's rules find it urgent, one finds a red flag
        word and another person or a report, and none finds "I", "me" or "my wife". The
        model's own symptom label is not trusted for such a message (issue 22)."""
        if self.is_urgent(text):
            return False
        judged = [rules._someone_else(rules.normalize(text)) for rules in [self] + self._others]
        return any(verdict is True for verdict in judged) and not any(verdict is None for verdict in judged)

    def _someone_else(self, message: str) -> Optional[bool]:
        """None when the message names the patient or a carer; True when it names a red flag
        and another person or a report; False otherwise."""
        people = [m.lastgroup for m in self._people.finditer(message)]
        if "patient" in people or "carer" in people:
            return None
        names_flag = any(
            flag.applies(message) and any(rx.search(message) for rx in flag.patterns) for flag in self._flags
        )
        return names_flag and ("others" in people or bool(self._reported.search(message)))

    def language(self, code: str) -> RedFlags:
        """The rules of one language alone ("en", "es"), for tests and debugging."""
        for rules in [self] + self._others:
            if rules.code == code:
                return rules
        raise KeyError(f"no red-flag patterns for language {code!r}")

    @property
    def languages(self) -> List[str]:
        """The languages whose rules judge every message."""
        return [rules.code for rules in [self] + self._others]

    def describes_red_flag(self, text: Text) -> bool:
        """True when this language's rules (alone) find a red flag about the patient now."""
        message = self.normalize(text)
        previous: Optional[_Judged] = None
        for clause in self.clauses(message):
            judged = self._judge(message, clause, None if clause.link in (FIRST, NEW) else previous)
            if judged.urgent:
                return True
            previous = judged
        return False

    def split(self, text: Text) -> List[str]:
        """The clause texts of a message (normalized), for tests and debugging."""
        return [clause.text for clause in self.clauses(self.normalize(text))]

    def normalize(self, text: Text) -> str:
        """Lower case, straight apostrophes dropped, misspellings and SMS words rewritten
        (and, for a file with `fold_accents`, accents dropped)."""
        text = re.sub("[\u2019\u2018`\u00b4]", "'", (text or "").lower())
        if self._exact_rx:
            text = self._exact_rx.sub(lambda m: self._exact[m.group(0)], text)
        if self._fold:
            text = _fold_accents(text)
        if self._spelling_rx:
            text = self._spelling_rx.sub(lambda m: self._spelling[m.group(0)], text)
        text = text.replace("'", "")
        return re.sub(r"[ \t\r\f\v]+", " ", text).strip()

    def clauses(self, message: str) -> List[Clause]:
        """Cuts a normalized message into sentences, then into clauses."""
        result: List[Clause] = []
        position = 0
        for end in list(self._sentence_end.finditer(message)) + [None]:
            stop = end.start() if end else len(message)
            result.extend(self._sentence_clauses(message[position:stop], position, bool(end and "?" in end.group(0))))
            position = end.end() if end else stop
        return result

    # ------------------------------------------------------------ splitting
    def _sentence_clauses(self, sentence: str, offset: int, asked: bool) -> List[Clause]:
        cuts: Dict[int, str] = {}

        def cut(position: int, link: str) -> None:
            while position < len(sentence) and sentence[position].isspace():
                position += 1
            if 0 < position < len(sentence) and _LINK_RANK[link] > _LINK_RANK.get(cuts.get(position, ""), 0):
                cuts[position] = link

        for rx in self._new:
            for match in rx.finditer(sentence):
                cut(match.start(), NEW)
        for match in self._continued.finditer(sentence):
            cut(match.start(), CONTINUED)
        for match in self._patient_starts.finditer(sentence):
            word = re.search(r"(\w+)\W*$", sentence[: match.start()])
            if self._patient_not_after is not None and self._patient_not_after.search(sentence[: match.start()]):
                continue
            if word and word.group(1) not in self._tied:
                cut(match.start(), PATIENT)
        bounds = [(0, FIRST)] + sorted(cuts.items())
        pieces = []
        for index, (start, link) in enumerate(bounds):
            stop = bounds[index + 1][0] if index + 1 < len(bounds) else len(sentence)
            text = sentence[start:stop].strip(" ,")
            if text.strip():
                pieces.append((text, offset + start, link))
        clauses = []
        for index, (text, start, link) in enumerate(pieces):
            bare = self._fillers.sub("", text, count=1)
            marked = asked and index == len(pieces) - 1 and bool(self._question_mark_words.search(text))
            question = bool(self._question.match(bare) or marked or self._during_the_exam.search(text))
            clauses.append(Clause(text, start, FIRST if index == 0 else link, question))
        return clauses

    # ------------------------------------------------------------ judging
    def _judge(self, message: str, clause: Clause, previous: Optional[_Judged]) -> _Judged:
        """Whether one clause is urgent, and what it passes on to the next one."""
        text = clause.text
        carried = previous if clause.link == CONTINUED else None
        past = bool(self._history.search(text) or self._habit.search(text)) or bool(previous and previous.past)
        personal = bool(self._personal.search(text))
        urgent = False
        if not past:
            urgent = any(
                self._flag_counts(message, clause, match, carried, personal)
                for flag in self._flags
                if flag.applies(text)
                for rx in flag.patterns
                for match in rx.finditer(text)
            )
        own = self._who(message, clause.start, text)
        kept = self._keeps_frame(carried, own)
        return _Judged(
            urgent=urgent,
            hypothetical=bool(self._hypothetical.search(text) or self._reported.search(text)) or kept,
            over_patient=bool(self._over_patient and self._over_patient.search(text))
            or bool(kept and carried and carried.over_patient),
            past=past,
            who=own or (carried.who if carried else None),
        )

    def _flag_counts(
        self, message: str, clause: Clause, match: re.Match, carried: Optional[_Judged], personal: bool
    ) -> bool:
        """Whether one red-flag match in a clause is about the patient, now."""
        before, after = clause.text[: match.start()], clause.text[match.end() :]
        if self._negated(clause.text, before) or self._as_a_topic.match(after):
            return False
        if self._negation_after is not None and self._negation_after.match(after):
            return False
        if self._hypothetical.search(before) or self._hearsay_covers(clause.text, match):
            return False
        who = self._who(message, clause.start, before)
        if self._keeps_frame(carried, who):
            return False
        if who is None and carried is not None:
            who = carried.who
        if who == OTHERS:
            return False
        return personal or not clause.question

    @staticmethod
    def _keeps_frame(carried: Optional[_Judged], who: Optional[str]) -> bool:
        """Whether a continued clause naming `who` stays in the clause before's "what if",
        fear or hearsay: when it names no one, or names the patient under a frame that
        covers her too. Hearsay never does: "leí que puede ser infección, y tengo 38.7"."""
        if carried is None or not carried.hypothetical:
            return False
        return who is None or (who == SELF and carried.over_patient)

    def _hearsay_covers(self, text: str, match: re.Match) -> bool:
        """Whether hearsay before a red flag ("I read that ...", "I was told ...") covers
        it: not when a statement of the patient's own (`patient_starts`, `own_words`)
        starts after the hearsay ("I read a fever can mean infection and I've got 101.5",
        "escuché que el yodo da alergia y se me está hinchando la cara")."""
        heard = _last(self._reported.finditer(text, 0, match.start()))
        if heard is None:
            return False
        return not any(rx.search(text, heard.end(), match.end()) for rx in self._own)

    def _negated(self, text: str, before: str) -> bool:
        """A negation just before the red flag ("no fever"), not a hedge ("no idea why")."""
        negation = self._negation.search(before)
        return negation is not None and not self._not_a_negation.match(text[negation.start() :])

    def _who(self, message: str, clause_start: int, text: str) -> Optional[str]:
        """The last person named in `text` (SELF, CARER, OTHERS), or None."""
        last = _last(self._people.finditer(text))
        if last is None:
            return None
        if last.lastgroup == "carer":
            return CARER
        if last.lastgroup == "others":
            return OTHERS
        if last.lastgroup == "patient":
            return SELF
        named = _last(self._named.finditer(message[: clause_start + last.start()]))
        if named is None:
            return CARER  # "she fainted" with no one named: someone writing for the patient
        return CARER if named.lastgroup == "carer" else OTHERS


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SymptomSafetyNet(GraphComponent):
    """Overrides the intent with report_symptoms when red-flag patterns match."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Where the patterns live."""
        return {"patterns_file": "safety/red_flags.yml"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        path = Path(config["patterns_file"])
        self.flags = RedFlags(path if path.is_absolute() else ROOT / path)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SymptomSafetyNet:
        """Creates the component and compiles the patterns."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to learn."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Sends red-flag messages to the urgent intent."""
        for message in messages:
            intent = message.get(INTENT) or {}
            text = message.get(TEXT) or ""
            if PAYLOAD.match(text.strip()):
                continue
            if intent.get(INTENT_NAME_KEY) == URGENT_INTENT:
                if self.flags.about_someone_else(text):
                    # the model's guess, but the rules see only someone else's symptom
                    unsure = {
                        INTENT_NAME_KEY: NOT_ABOUT_THE_PATIENT,
                        PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY),
                    }
                    message.data[INTENT] = unsure
                    message.data["intent_ranking"] = [unsure] + [
                        entry
                        for entry in message.get("intent_ranking") or []
                        if entry.get(INTENT_NAME_KEY) != URGENT_INTENT
                    ]
                continue
            if self.flags.is_urgent(text):
                logger.info("Safety net: a message was sent to the urgent answer")
                urgent = {INTENT_NAME_KEY: URGENT_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.data[INTENT] = urgent
                message.data["intent_ranking"] = [urgent] + (message.get("intent_ranking") or [])
        return messages
