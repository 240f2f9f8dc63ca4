"""The checks an answer must pass before patients see it (no Rasa imports).

The rules and their numbers live in content/checks.yml. Each problem names the
answer, the form (web or SMS) and its language, what is wrong and how to fix it. The
editor page refuses a save with problems, `make check-content` prints them, `make test`
fails.

Every answer has an English and a Spanish version (`es:`, editor/store.py). Each check
of a form runs on both; the Spanish ones with their own numbers where the language needs
them (reading ease instead of grade, SMS segments, promises, words to keep), and the
Spanish version must also say what the English says that the bot relies on: the same
placeholders, the same intent buttons, the same custom parts. An answer without a
Spanish version fails ("no Spanish version").
"""

from __future__ import annotations

import difflib
import re
import statistics
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

import textstat
import yaml
from textstat.textstat import textstatistics

from common.sms_keywords import is_carrier_keyword
from common.sms_segments import numbered, segments
from editor.store import DEFAULT_DIR, ROOT, fill, spanish_values

ANY_BRACES = re.compile(r"\{([^{}]*)\}")
URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:/+|\bwww\.)[^\s<>\"')\]]*", re.I)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)]*)\)")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
UNFINISHED = "TODO"  # what scripts/new_topic.py writes where a person must write
NOT_PLAIN_SMS = re.compile(r"(^|\n)\s*[-*#]\s|<[a-z/]|\*\*|__|\[.+\]\(", re.I)


@dataclass
class Problem:
    answer: str
    form: str  # "web", "sms", or "answer" for the whole answer (or the whole Spanish version)
    check: str  # short name of the rule
    message: str  # what is wrong
    fix: str  # what to do about it
    language: str = "en"  # "en", or "es" for the Spanish version

    def __str__(self) -> str:
        if self.language == "es":
            where = f"{self.answer} (Spanish {self.form})" if self.form != "answer" else f"{self.answer} (Spanish)"
        else:
            where = f"{self.answer} ({self.form})" if self.form != "answer" else self.answer
        return f"{where}: {self.message}. Fix: {self.fix}"


@lru_cache(maxsize=4)
def load_rules(path: str = str(DEFAULT_DIR / "checks.yml")) -> Dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def clinic_values(language: str = "en") -> Dict[str, str]:
    """The clinic settings that fill {placeholders} (clinic.yml), for callers that pass none."""
    from common.settings import load_settings, placeholders

    return placeholders(load_settings(), language)


def worst_case(values: Dict[str, str], rules: Dict[str, Any], language: str = "en") -> Dict[str, str]:
    """The clinic settings plus the longest value each run-time placeholder ({date_text},
    {start_text}, ...) can take: the text as long and as hard as a patient can see it.
    In Spanish, `worst_case_values_es` replace the values that are words (dates, topics)."""
    longest = dict(rules["worst_case_values"], **(rules.get("worst_case_values_es") or {} if language == "es" else {}))
    return dict(values, **{key: str(value) for key, value in longest.items()})


def plain_grade(text: str, rules: Dict[str, Any], values: Optional[Dict[str, str]] = None) -> float:
    """Flesch-Kincaid grade of what a patient reads: the clinic's settings (`values`, by
    default clinic.yml's) and the longest run-time values filled in. The medical terms a
    patient needs, and web addresses, count as one short word each."""
    filled = fill(text, worst_case(clinic_values() if values is None else values, rules))
    return _grade(filled, tuple(rules["medical_terms"]))


@lru_cache(maxsize=4096)
def _grade(text: str, medical_terms: Tuple[str, ...]) -> float:
    # Cached: the editor grades every answer for the list, the median and each keystroke's check.
    words = ANY_BRACES.sub("it", text)  # only unknown placeholders are left; the placeholder check names them
    words = URL.sub("link", words)  # a web address is tapped, not read syllable by syllable
    for term in medical_terms:
        words = re.sub(rf"\b{re.escape(term)}\b", "test", words, flags=re.I)
    return round(float(textstat.flesch_kincaid_grade(words)), 1) if words.strip() else 0.0


# --- Spanish reading ease -------------------------------------------------------------
# Fernández-Huerta (textstat's `fernandez_huerta`: 206.84 - 60 x syllables per word -
# 1.02 x words per sentence; higher is easier) on an instance of textstat's own, so the
# English grade keeps textstat's English settings. textstat counts syllables with pyphen's
# hyphenation patterns (set_lang("es")); those never split a hiatus or a single vowel at
# the start or end of a word ("día", "examen", "útero", "ayuda" count one syllable short),
# which made this project's Spanish answers look 7 points easier than they are on average
# (up to 16). Spanish spelling gives the syllables exactly, so `spanish_syllables` counts
# them by the rules instead.
STRONG_VOWELS = set("aeoáéó")
STRESSED_WEAK_VOWELS = set("íú")
SPANISH_VOWELS = set("aeiouáéíóúü")


def spanish_syllables(word: str) -> int:
    """Syllables of one Spanish word: one per vowel group, where two strong vowels (a e o)
    or a stressed í ú next to another vowel are two syllables (hiatus), a final y after a
    vowel is a vowel ("hay", "muy"), and the u of que qui gue gui is silent."""
    word = re.sub(r"([qg])u(?=[eiéí])", r"\1", word.lower())
    if len(word) > 1 and word.endswith("y") and word[-2] in SPANISH_VOWELS:
        word = word[:-1] + "i"
    count, previous = 0, ""
    for letter in word:
        if letter in SPANISH_VOWELS:
            if (
                not previous
                or (previous in STRONG_VOWELS and letter in STRONG_VOWELS)
                or previous in STRESSED_WEAK_VOWELS
                or letter in STRESSED_WEAK_VOWELS
            ):
                count += 1
            previous = letter
        else:
            previous = ""
    return max(1, count)


class _SpanishTextstat(textstatistics):
    def syllable_count(self, text: str, lang: Optional[str] = None) -> int:
        return sum(spanish_syllables(word) for word in self.remove_punctuation(text.lower()).split())


SPANISH_TEXTSTAT = _SpanishTextstat()
SPANISH_TEXTSTAT.set_lang("es")
SPANISH_TEXTSTAT.set_rounding(False)  # textstat would round syllables per word to 0.1 (6 points)


def reading_ease(text: str, rules: Dict[str, Any], values: Optional[Dict[str, str]] = None) -> float:
    """Fernández-Huerta reading ease of a Spanish text as a patient reads it (higher is
    easier; 70-80 is about 6th grade): the clinic's Spanish settings (`values`, by default
    clinic.yml's) and the longest Spanish run-time values filled in. The medical terms a
    patient needs (`medical_terms_es`), and web addresses, count as one short word each."""
    filled = fill(text, worst_case(clinic_values("es") if values is None else values, rules, "es"))
    return _ease(filled, tuple(rules["medical_terms_es"]))


@lru_cache(maxsize=4096)
def _ease(text: str, medical_terms: Tuple[str, ...]) -> float:
    words = ANY_BRACES.sub("eso", text)
    words = URL.sub("link", words)
    for term in sorted(medical_terms, key=len, reverse=True):  # "trompas de Falopio" before "trompas"
        words = re.sub(rf"\b{re.escape(term)}\b", "test", words, flags=re.I)
    return round(float(SPANISH_TEXTSTAT.fernandez_huerta(words)), 1) if words.strip() else 100.0


def sms_body(form: Dict[str, Any], values: Dict[str, str], rules: Dict[str, Any], language: str = "en") -> str:
    """The longest SMS this form can become: clinic settings and the longest dates
    filled in, and the buttons added as numbered choices (worded in `language`)."""
    worst = worst_case(values, rules, language)
    return numbered(fill(form.get("text", ""), worst), fill(form.get("buttons") or [], worst), language)


def strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)


def bad_link(url: str) -> Optional[str]:
    url = url.rstrip(".,;:!?")
    parsed = urlparse(url if "://" in url or not url.lower().startswith("www.") else "https://" + url)
    if parsed.scheme.lower() not in ("http", "https"):
        return f"link {url!r} does not start with https://"
    if url.count("://") != 1 or not HOSTNAME.match(parsed.hostname or ""):
        return f"link {url!r} has no valid web address after https://"
    if " " in url:
        return f"link {url!r} contains a space"
    return None


def fact_sections(path: Path) -> List[str]:
    """The `## ` section titles of the fact sheet, read again whenever the file changes."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return []
    return list(_sections(str(path), stamp))


@lru_cache(maxsize=8)
def _sections(path: str, stamp: int) -> Tuple[str, ...]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(line[3:].strip() for line in lines if line.startswith("## ") and line[3:].strip())


def _same_title(title: str) -> str:
    return " ".join(title.split()).casefold()


def source_problems(source: str, rules: Dict[str, Any]) -> List[Tuple[str, str]]:
    """What is wrong with an answer's `source`, as (message, fix) pairs. A source is one or
    more parts separated by "; ", each "<known source>: <what>", for example
    "docs/facts.md: Warning signs; clinic.yml: clinic phone". A part naming the fact sheet
    must name one of its `## ` sections."""
    known = list(rules["sources"])
    example = "docs/facts.md: Warning signs; clinic.yml: clinic phone"
    if not source:
        return [
            (
                "it does not name its source",
                f"say where its facts come from, as '<source>: <section or setting>' with a source of: "
                f"{', '.join(known)} (for example '{example}')",
            )
        ]
    problems: List[Tuple[str, str]] = []
    sheet = rules.get("fact_sheet")
    for part in (piece.strip() for piece in source.split(";")):
        if not part:
            continue
        name, _, what = part.partition(":")
        name, what = name.strip(), what.strip()
        if name not in known:
            problems.append(
                (
                    f"its source {part!r} is not one of the known sources",
                    f"start each part of the source (parts separated by '; ') with one of: "
                    f"{', '.join(known)}, a colon, and the section or setting "
                    f"(for example '{example}')",
                )
            )
        elif not what:
            problems.append(
                (
                    f"its source {part!r} names {name} but not what in it",
                    f"add a colon and the {'section title' if name == sheet else 'setting'} after {name}",
                )
            )
        elif name == sheet:
            titles = fact_sections(ROOT / sheet)
            if _same_title(what) not in {_same_title(title) for title in titles}:
                close = difflib.get_close_matches(what, titles, n=1, cutoff=0.5)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append(
                    (
                        f"its source names the section {what!r}, which {sheet} does not have",
                        f"{hint}name a '## ' section of {sheet}: {', '.join(titles) or 'none found'}",
                    )
                )
    return problems


# One form ("web" or "sms") of one answer, as each check below sees it.
@dataclass
class Form:
    name: str  # "web" or "sms"
    part: Dict[str, Any]  # the form's text, buttons ...
    text: str  # its text, stripped
    values: Dict[str, str]  # the clinic settings that fill {placeholders} (in the form's language)
    rules: Dict[str, Any]  # content/checks.yml
    language: str = "en"  # "en", or "es" for the Spanish version

    @property
    def label(self) -> str:
        label = "web chat" if self.name == "web" else "SMS"
        return f"Spanish {label}" if self.language == "es" else label

    def rule(self, key: str) -> Any:
        """A number or list of content/checks.yml for this form's language: `<key>_es`
        for Spanish when there is one, else `<key>`."""
        if self.language != "en" and f"{key}_{self.language}" in self.rules:
            return self.rules[f"{key}_{self.language}"]
        return self.rules[key]


Found = Iterator[Tuple[str, str, str]]  # (check, message, fix)


def check_placeholders(form: Form) -> Found:
    # Payloads like /timing{"want_dates":"yes"} are intents for the bot, not words.
    words = " ".join(string for string in strings_in(form.part) if not string.startswith("/"))
    known = set(form.values) | set(form.rules["runtime_values"])
    for token in ANY_BRACES.findall(words):
        if token not in known:
            yield (
                "placeholder",
                f"the placeholder {{{token}}} is not a clinic setting",
                "use one of " + ", ".join(f"{{{key}}}" for key in sorted(form.values)) + ", or remove the braces",
            )
    leftover = ANY_BRACES.sub("", words)
    if "{" in leftover or "}" in leftover:
        yield (
            "placeholder",
            "it has a brace { or } that does not close a placeholder",
            "write placeholders as {clinic_phone}, with both braces, or remove the stray brace",
        )


def check_links(form: Form) -> Found:
    for string in strings_in(fill(form.part, form.values)):
        for url in URL.findall(string) + MARKDOWN_LINK.findall(string):
            reason = bad_link(url)
            if reason:
                yield "link", reason, "write the full address, like https://www.example.com/page"


def check_promises(form: Form) -> Found:
    for pattern in form.rule("promises"):
        found = re.search(rf"\b{pattern}", form.text, re.I)
        if found:
            example = "'muchas personas' or 'a menudo'" if form.language == "es" else "'many people' or 'often'"
            yield (
                "promise",
                f"it promises an outcome ({found.group(0)!r})",
                f"describe what usually happens instead, like {example}, and leave promises to the doctor",
            )


def check_grade(form: Form) -> Found:
    if form.language == "es":
        ease, least = reading_ease(form.text, form.rules, form.values), form.rules["min_reading_ease_es"]
        if ease < least:
            yield (
                "reading_ease",
                f"its reading ease (Fernández-Huerta) is {ease}, below {least}: harder than "
                "about 8th grade (scored with the clinic's details and the longest dates filled in)",
                "use shorter sentences (about 15 words) and shorter, everyday words; put each long date "
                "in a sentence of its own",
            )
        return
    grade = plain_grade(form.text, form.rules, form.values)
    if grade > form.rules["max_grade"]:
        yield (
            "grade",
            f"its reading grade is {grade}, above {form.rules['max_grade']} "
            "(graded with the clinic's details and the longest dates filled in)",
            "use shorter sentences (about 15 words) and shorter, everyday words; put each long date "
            "in a sentence of its own",
        )


def check_buttons(form: Form) -> Found:
    for button in form.part.get("buttons") or []:
        if not button.get("title") or not button.get("payload"):
            yield (
                "buttons",
                "a button has no title or no message to send",
                "give every button a title and the question it sends",
            )
        elif form.name == "sms" and is_carrier_keyword(str(button.get("title", ""))):
            yield (
                "buttons",
                f"the choice {button['title']!r} is a carrier keyword",
                "carriers act on STOP, HELP, START (and PARAR, AYUDA, SÍ...) themselves: use other words",
            )


def check_web_length(form: Form) -> Found:
    words = len(form.text.split())
    if form.name == "web" and words > form.rules["max_words"]:
        yield (
            "length",
            f"it has {words} words, more than {form.rules['max_words']}",
            f"cut {words - form.rules['max_words']} words, or split it into two answers",
        )


def check_sms_length(form: Form) -> Found:
    if form.name != "sms":
        return
    most = form.rule("max_sms_segments")
    body = sms_body(form.part, form.values, form.rules, form.language)
    encoding, count = segments(body)
    if count > most:
        limit = 153 * most if encoding == "GSM-7" else 67 * most
        if form.language == "es":
            hint = (
                " An accented á, í, ó or ú (like a curly quote, dash or emoji) makes the whole text UCS-2,"
                " 67 characters a segment, as the carrier counts it."
                if encoding == "UCS-2"
                else ""
            )
        else:
            hint = (
                " A curly quote, dash or emoji makes the whole text UCS-2 (67 characters a segment);"
                " use straight quotes and plain hyphens."
                if encoding == "UCS-2"
                else ""
            )
        yield (
            "sms_length",
            f"it needs {count} SMS segments ({len(body)} characters with the numbered choices and the "
            f"longest dates), more than {most}",
            f"shorten it to at most {limit} characters in all, for example by "
            f"{len(body) - limit} characters or one button less.{hint}",
        )


def check_sms_plain(form: Form) -> Found:
    if form.name == "sms" and (NOT_PLAIN_SMS.search(form.text) or form.part.get("custom")):
        yield (
            "sms_plain",
            "the SMS form has formatting (markdown, HTML or a picture)",
            "texts show plain words only: remove the formatting",
        )


def check_unfinished(form: Form) -> Found:
    """The TODO stubs `make new-topic` writes (scripts/new_topic.py) are never live text."""
    if any(UNFINISHED in string for string in strings_in(form.part)):
        yield (
            "unfinished",
            f"it still has {UNFINISHED} text (a new topic's stub)",
            f"write the {form.label} text and buttons in place of every {UNFINISHED}",
        )


# Every check of one form of an answer, in the order their problems are listed.
FORM_CHECKS: List[Callable[[Form], Found]] = [
    check_unfinished,
    check_placeholders,
    check_links,
    check_promises,
    check_grade,
    check_buttons,
    check_web_length,
    check_sms_length,
    check_sms_plain,
]


# --- the Spanish form against the English one ---------------------------------------------
def _intents(part: Dict[str, Any]) -> List[str]:
    return sorted(
        {str(b.get("payload") or "") for b in part.get("buttons") or [] if str(b.get("payload") or "").startswith("/")}
    )


def check_same_placeholders(english: Form, spanish: Form) -> Found:
    """The Spanish text says every {placeholder} the English says: a date, a phone."""

    def found(part: Dict[str, Any]) -> set:  # payloads like /timing{"want_dates":"yes"} are no placeholders
        return set(ANY_BRACES.findall(" ".join(text for text in strings_in(part) if not text.startswith("/"))))

    for token in sorted(found(english.part) - found(spanish.part)):
        yield (
            "placeholder",
            f"it leaves out {{{token}}}, which the English {english.label} has",
            f"put {{{token}}} in the Spanish text too, spelled exactly so (it is filled in by the bot)",
        )


def check_same_intents(english: Form, spanish: Form) -> Found:
    """Buttons that send an intent (/affirm, /deny, /timing{...}) send the same in Spanish."""
    ours, theirs = _intents(spanish.part), _intents(english.part)
    for payload in sorted(set(theirs) - set(ours)):
        yield (
            "intents",
            f"no button sends {payload}, which a button of the English {english.label} sends",
            f"give the Spanish button the same message to send, exactly {payload} (only question payloads "
            "are translated)",
        )
    for payload in sorted(set(ours) - set(theirs)):
        yield (
            "intents",
            f"a button sends {payload}, which no English button sends",
            "copy the payload of the matching English button exactly",
        )


def check_same_custom(english: Form, spanish: Form) -> Found:
    """The picture, diagram or calendar of the English web form is there in Spanish too."""
    ours, theirs = set(spanish.part.get("custom") or {}), set(english.part.get("custom") or {})
    if ours != theirs:
        yield (
            "custom",
            f"its custom parts are {sorted(ours) or 'none'}, not {sorted(theirs)} as in English",
            "give the Spanish web form the same custom keys as the English one (the picture's alt text "
            "in Spanish), in the answer file",
        )


PAIR_CHECKS: List[Callable[[Form, Form], Found]] = [check_same_placeholders, check_same_intents, check_same_custom]


def _forms_of(answer: Dict[str, Any]) -> List[str]:
    return ["sms"] if answer.get("sms_only") else ["web", "sms"]


def _required(word: Any, text: str) -> bool:
    """A required word is a string, or a list of strings one of which will do."""
    return any(str(one).lower() in text.lower() for one in (word if isinstance(word, list) else [word]))


def check_answer(
    name: str,
    answer: Dict[str, Any],
    values: Dict[str, str],
    rules: Optional[Dict[str, Any]] = None,
    values_es: Optional[Dict[str, str]] = None,
) -> List[Problem]:
    """Every problem with one answer: its source, then each form's checks (FORM_CHECKS),
    then the words it must keep; then the same for its Spanish version, which must
    exist, plus the checks against the English (PAIR_CHECKS). `values` are the clinic
    settings that fill {placeholders} (common.settings.placeholders), `values_es` the
    Spanish ones (placeholders(settings, "es"); by default `values` with clinic.yml's
    Spanish words)."""
    rules = rules or load_rules()
    values_es = spanish_values(values) if values_es is None else values_es
    problems = [
        Problem(name, "answer", "source", message, fix)
        for message, fix in source_problems((answer.get("source") or "").strip(), rules)
    ]
    forms = _forms_of(answer)
    english: Dict[str, Form] = {}
    for form_name in forms:
        part = answer.get(form_name) or {}
        form = english[form_name] = Form(form_name, part, (part.get("text") or "").strip(), values, rules)
        if not form.text:
            problems.append(
                Problem(
                    name,
                    form_name,
                    "present",
                    f"there is no {form.label} text",
                    f"write the {form.label} form of this answer",
                )
            )
            continue
        for check in FORM_CHECKS:
            problems += [Problem(name, form_name, *found) for found in check(form)]
    for word in (rules.get("required") or {}).get(name, []):
        for form_name in forms:
            if not _required(word, (answer.get(form_name) or {}).get("text") or ""):
                problems.append(
                    Problem(
                        name,
                        form_name,
                        "required",
                        f"it must say {word!r}",
                        f"put {word!r} back: this answer is checked for it on purpose",
                    )
                )
    return problems + spanish_problems(name, answer, english, values_es, rules)


def _spanish_form_problems(
    name: str,
    form_name: str,
    spanish: Dict[str, Any],
    english: Dict[str, Form],
    values_es: Dict[str, str],
    rules: Dict[str, Any],
) -> List[Problem]:
    """One Spanish form's problems: present, every form check, and the checks against its English form."""
    part = spanish.get(form_name) or {}
    form = Form(form_name, part, (part.get("text") or "").strip(), values_es, rules, "es")
    if not form.text:
        what = f"there is no {form.label} text"
        return [Problem(name, form_name, "present", what, f"write the {form.label} form of this answer", "es")]
    problems = [Problem(name, form_name, *found, "es") for check in FORM_CHECKS for found in check(form)]
    if english.get(form_name) is not None and english[form_name].text:
        for pair_check in PAIR_CHECKS:
            problems += [Problem(name, form_name, *found, "es") for found in pair_check(english[form_name], form)]
    return problems


def spanish_problems(
    name: str, answer: Dict[str, Any], english: Dict[str, Form], values_es: Dict[str, str], rules: Dict[str, Any]
) -> List[Problem]:
    """The Spanish version's problems (see check_answer)."""
    spanish = answer.get("es")
    forms = _forms_of(answer)
    if not isinstance(spanish, dict) or not any((spanish.get(f) or {}).get("text") for f in forms):
        shape = "sms" if answer.get("sms_only") else "web and sms"
        return [
            Problem(
                name,
                "answer",
                "spanish",
                "there is no Spanish version",
                f"add an `es:` block with the Spanish {shape} forms to the answer file, or write them "
                "in the editor's Spanish fields",
                "es",
            )
        ]
    problems: List[Problem] = []
    if bool(spanish.get("reviewed_by")) != bool(spanish.get("reviewed_on")):
        problems.append(
            Problem(
                name,
                "answer",
                "reviewed",
                "its Spanish review names a reviewer or a date, not both",
                "give es.reviewed_by and es.reviewed_on together, or neither",
                "es",
            )
        )
    for form_name in forms:
        problems += _spanish_form_problems(name, form_name, spanish, english, values_es, rules)
    required = rules.get("required_es", rules.get("required")) or {}
    for word in required.get(name, []):
        for form_name in forms:
            if not _required(word, (spanish.get(form_name) or {}).get("text") or ""):
                shown = " or ".join(repr(one) for one in word) if isinstance(word, list) else repr(word)
                problems.append(
                    Problem(
                        name,
                        form_name,
                        "required",
                        f"it must say {shown}",
                        f"put {shown} back: this answer is checked for it on purpose",
                        "es",
                    )
                )
    return problems


def spanish_unreviewed(answer: Dict[str, Any]) -> bool:
    """The answer has a Spanish version that no bilingual clinician has reviewed yet."""
    spanish = answer.get("es") or {}
    return bool(spanish) and not spanish.get("reviewed_by")


def _summary_row(
    name: str,
    answer: Dict[str, Any],
    own: List[Problem],
    values: Dict[str, str],
    rules: Dict[str, Any],
    values_es: Dict[str, str],
) -> Dict[str, Any]:
    """One answer's row of the table in `make check-content` and the editor."""
    web = (answer.get("web") or {}).get("text") or ""
    sms = answer.get("sms") or {}
    spanish = answer.get("es") or {}
    web_es = (spanish.get("web") or {}).get("text") or ""
    sms_es = spanish.get("sms") or {}
    shown = web or sms.get("text") or ""
    web_form = not answer.get("sms_only")
    return {
        "answer": name,
        "web_grade": plain_grade(web, rules, values) if web and web_form else None,
        "sms_grade": plain_grade(sms.get("text", ""), rules, values) if sms.get("text") else None,
        "sms_segments": segments(sms_body(sms, values, rules))[1] if sms.get("text") else None,
        "es_web_ease": reading_ease(web_es, rules, values_es) if web_es and web_form else None,
        "es_sms_ease": reading_ease(sms_es["text"], rules, values_es) if sms_es.get("text") else None,
        "es_sms_segments": segments(sms_body(sms_es, values_es, rules, "es"))[1] if sms_es.get("text") else None,
        "preview": shown if len(shown) <= 80 else shown[:80] + "...",
        # what the editor's search looks in
        "words": f"{web} {sms.get('text') or ''} {web_es} {sms_es.get('text') or ''}",
        "source": answer.get("source"),
        "reviewed": answer.get("reviewed_on"),
        "es_reviewed": spanish.get("reviewed_on"),
        "has_spanish": bool(spanish),
        "spanish_unreviewed": spanish_unreviewed(answer),
        "status": "ok" if not own else "; ".join(sorted({p.check for p in own})),
        "problems": [asdict(p) for p in own],
    }


def check_store(
    answers: Dict[str, Dict[str, Any]],
    values: Dict[str, str],
    rules: Optional[Dict[str, Any]] = None,
    values_es: Optional[Dict[str, str]] = None,
) -> Tuple[List[Problem], List[Dict[str, Any]]]:
    """Problems over all answers (each answer's, plus the median English grade and the
    median Spanish reading ease), and one summary row per answer for the table in
    `make check-content` and the editor."""
    rules = rules or load_rules()
    values_es = spanish_values(values) if values_es is None else values_es
    problems: List[Problem] = []
    rows = []
    for name in sorted(answers):
        own = check_answer(name, answers[name], values, rules, values_es)
        problems.extend(own)
        rows.append(_summary_row(name, answers[name], own, values, rules, values_es))
    median = median_grade(answers, rules, values)
    if median > rules["max_median_grade"]:
        problems.append(
            Problem(
                "all answers",
                "web",
                "median_grade",
                f"the median reading grade is {median}, above {rules['max_median_grade']}",
                "make the hardest answers plainer",
            )
        )
    median_es = median_reading_ease(answers, rules, values_es)
    if median_es is not None and median_es < rules["min_median_reading_ease_es"]:
        problems.append(
            Problem(
                "all answers",
                "web",
                "median_reading_ease",
                f"the median reading ease is {median_es}, below {rules['min_median_reading_ease_es']}",
                "make the hardest Spanish answers plainer",
                "es",
            )
        )
    return problems, rows


def median_grade(
    answers: Dict[str, Dict[str, Any]], rules: Dict[str, Any], values: Optional[Dict[str, str]] = None
) -> float:
    values = clinic_values() if values is None else values
    grades = [
        plain_grade(a["web"]["text"], rules, values)
        for a in answers.values()
        if not a.get("sms_only") and (a.get("web") or {}).get("text")
    ]
    return round(statistics.median(grades), 1) if grades else 0.0


def median_reading_ease(
    answers: Dict[str, Dict[str, Any]], rules: Dict[str, Any], values_es: Optional[Dict[str, str]] = None
) -> Optional[float]:
    """The median Fernández-Huerta reading ease of the Spanish web texts (None when
    there are none yet)."""
    values_es = clinic_values("es") if values_es is None else values_es
    scores = [
        reading_ease(a["es"]["web"]["text"], rules, values_es)
        for a in answers.values()
        if not a.get("sms_only") and ((a.get("es") or {}).get("web") or {}).get("text")
    ]
    return round(statistics.median(scores), 1) if scores else None


def check_save(
    name: str,
    answer: Dict[str, Any],
    answers: Dict[str, Dict[str, Any]],
    values: Dict[str, str],
    rules: Optional[Dict[str, Any]] = None,
    values_es: Optional[Dict[str, str]] = None,
) -> List[Problem]:
    """What a save of `answer` as `name` would break: its own problems (both languages),
    and the median English grade and Spanish reading ease of all answers with this one
    changed (only when the change makes a median that is over its limit worse)."""
    rules = rules or load_rules()
    values_es = spanish_values(values) if values_es is None else values_es
    problems = check_answer(name, answer, values, rules, values_es)
    after = dict(answers, **{name: answer})
    median = median_grade(after, rules, values)
    if median > rules["max_median_grade"] and median > median_grade(answers, rules, values):
        problems.append(
            Problem(
                name,
                "web",
                "median_grade",
                f"with this change the median reading grade of all answers is {median}, "
                f"above {rules['max_median_grade']}",
                "make this answer plainer",
            )
        )
    median_es, before_es = median_reading_ease(after, rules, values_es), median_reading_ease(answers, rules, values_es)
    least = rules["min_median_reading_ease_es"]
    if median_es is not None and median_es < least and (before_es is None or median_es < before_es):
        problems.append(
            Problem(
                name,
                "web",
                "median_reading_ease",
                f"with this change the median reading ease of all Spanish answers is {median_es}, below {least}",
                "make this answer's Spanish plainer",
                "es",
            )
        )
    return problems
