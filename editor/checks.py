"""The checks an answer must pass before patients see it (no Rasa imports).

The rules and their numbers live in content/checks.yml. Each problem names the
answer, the form (web or SMS), what is wrong and how to fix it. The editor page
refuses a save with problems, `make check-content` prints them, `make test` fails.
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

from common.sms_segments import numbered, segments
from editor.store import DEFAULT_DIR, ROOT, fill

ANY_BRACES = re.compile(r"\{([^{}]*)\}")
URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:/+|\bwww\.)[^\s<>\"')\]]*", re.I)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)]*)\)")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
NOT_PLAIN_SMS = re.compile(r"(^|\n)\s*[-*#]\s|<[a-z/]|\*\*|__|\[.+\]\(", re.I)
CARRIER_KEYWORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "help", "info", "start", "unstop", "yes"}


@dataclass
class Problem:
    answer: str
    form: str        # "web", "sms", or "answer" for the whole answer
    check: str       # short name of the rule
    message: str     # what is wrong
    fix: str         # what to do about it

    def __str__(self) -> str:
        where = f"{self.answer} ({self.form})" if self.form != "answer" else self.answer
        return f"{where}: {self.message}. Fix: {self.fix}"


@lru_cache(maxsize=4)
def load_rules(path: str = str(DEFAULT_DIR / "checks.yml")) -> Dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def clinic_values() -> Dict[str, str]:
    """The clinic settings that fill {placeholders} (clinic.yml), for callers that pass none."""
    from common.settings import load_settings, placeholders

    return placeholders(load_settings())


def worst_case(values: Dict[str, str], rules: Dict[str, Any]) -> Dict[str, str]:
    """The clinic settings plus the longest value each run-time placeholder ({date_text},
    {start_text}, ...) can take: the text as long and as hard as a patient can see it."""
    return dict(values, **{key: str(value) for key, value in rules["worst_case_values"].items()})


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


def sms_body(form: Dict[str, Any], values: Dict[str, str], rules: Dict[str, Any]) -> str:
    """The longest SMS this form can become: clinic settings and the longest dates
    filled in, and the buttons added as numbered choices."""
    worst = worst_case(values, rules)
    return numbered(fill(form.get("text", ""), worst), fill(form.get("buttons") or [], worst))


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
        return [("it does not name its source",
                 f"say where its facts come from, as '<source>: <section or setting>' with a source of: "
                 f"{', '.join(known)} (for example '{example}')")]
    problems: List[Tuple[str, str]] = []
    sheet = rules.get("fact_sheet")
    for part in (piece.strip() for piece in source.split(";")):
        if not part:
            continue
        name, _, what = part.partition(":")
        name, what = name.strip(), what.strip()
        if name not in known:
            problems.append((f"its source {part!r} is not one of the known sources",
                             f"start each part of the source (parts separated by '; ') with one of: "
                             f"{', '.join(known)}, a colon, and the section or setting "
                             f"(for example '{example}')"))
        elif not what:
            problems.append((f"its source {part!r} names {name} but not what in it",
                             f"add a colon and the {'section title' if name == sheet else 'setting'} after {name}"))
        elif name == sheet:
            titles = fact_sections(ROOT / sheet)
            if _same_title(what) not in {_same_title(title) for title in titles}:
                close = difflib.get_close_matches(what, titles, n=1, cutoff=0.5)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append((f"its source names the section {what!r}, which {sheet} does not have",
                                 f"{hint}name a '## ' section of {sheet}: {', '.join(titles) or 'none found'}"))
    return problems


# One form ("web" or "sms") of one answer, as each check below sees it.
@dataclass
class Form:
    name: str                    # "web" or "sms"
    part: Dict[str, Any]         # the form's text, buttons ...
    text: str                    # its text, stripped
    values: Dict[str, str]       # the clinic settings that fill {placeholders}
    rules: Dict[str, Any]        # content/checks.yml

    @property
    def label(self) -> str:
        return "web chat" if self.name == "web" else "SMS"


Found = Iterator[Tuple[str, str, str]]  # (check, message, fix)


def check_placeholders(form: Form) -> Found:
    # Payloads like /timing{"want_dates":"yes"} are intents for the bot, not words.
    words = " ".join(string for string in strings_in(form.part) if not string.startswith("/"))
    known = set(form.values) | set(form.rules["runtime_values"])
    for token in ANY_BRACES.findall(words):
        if token not in known:
            yield ("placeholder", f"the placeholder {{{token}}} is not a clinic setting",
                   "use one of " + ", ".join(f"{{{key}}}" for key in sorted(form.values)) + ", or remove the braces")
    leftover = ANY_BRACES.sub("", words)
    if "{" in leftover or "}" in leftover:
        yield ("placeholder", "it has a brace { or } that does not close a placeholder",
               "write placeholders as {clinic_phone}, with both braces, or remove the stray brace")


def check_links(form: Form) -> Found:
    for string in strings_in(fill(form.part, form.values)):
        for url in URL.findall(string) + MARKDOWN_LINK.findall(string):
            reason = bad_link(url)
            if reason:
                yield "link", reason, "write the full address, like https://www.example.com/page"


def check_promises(form: Form) -> Found:
    for pattern in form.rules["promises"]:
        found = re.search(rf"\b{pattern}", form.text, re.I)
        if found:
            yield ("promise", f"it promises an outcome ({found.group(0)!r})",
                   "describe what usually happens instead, like 'many people' or 'often', and leave "
                   "promises to the doctor")


def check_grade(form: Form) -> Found:
    grade = plain_grade(form.text, form.rules, form.values)
    if grade > form.rules["max_grade"]:
        yield ("grade", f"its reading grade is {grade}, above {form.rules['max_grade']} "
               "(graded with the clinic's details and the longest dates filled in)",
               "use shorter sentences (about 15 words) and shorter, everyday words; put each long date "
               "in a sentence of its own")


def check_buttons(form: Form) -> Found:
    for button in form.part.get("buttons") or []:
        if not button.get("title") or not button.get("payload"):
            yield ("buttons", "a button has no title or no message to send",
                   "give every button a title and the question it sends")
        elif form.name == "sms" and str(button.get("title", "")).strip().lower() in CARRIER_KEYWORDS:
            yield ("buttons", f"the choice {button['title']!r} is a carrier keyword",
                   "carriers act on STOP, HELP, START and the like themselves: use other words")


def check_web_length(form: Form) -> Found:
    words = len(form.text.split())
    if form.name == "web" and words > form.rules["max_words"]:
        yield ("length", f"it has {words} words, more than {form.rules['max_words']}",
               f"cut {words - form.rules['max_words']} words, or split it into two answers")


def check_sms_length(form: Form) -> Found:
    if form.name != "sms":
        return
    rules = form.rules
    body = sms_body(form.part, form.values, rules)
    encoding, count = segments(body)
    if count > rules["max_sms_segments"]:
        limit = 153 * rules["max_sms_segments"] if encoding == "GSM-7" else 67 * rules["max_sms_segments"]
        hint = (" A curly quote, dash or emoji makes the whole text UCS-2 (67 characters a segment);"
                " use straight quotes and plain hyphens." if encoding == "UCS-2" else "")
        yield ("sms_length",
               f"it needs {count} SMS segments ({len(body)} characters with the numbered choices and the "
               f"longest dates), more than {rules['max_sms_segments']}",
               f"shorten it to at most {limit} characters in all, for example by "
               f"{len(body) - limit} characters or one button less.{hint}")


def check_sms_plain(form: Form) -> Found:
    if form.name == "sms" and (NOT_PLAIN_SMS.search(form.text) or form.part.get("custom")):
        yield ("sms_plain", "the SMS form has formatting (markdown, HTML or a picture)",
               "texts show plain words only: remove the formatting")


# Every check of one form of an answer, in the order their problems are listed.
FORM_CHECKS: List[Callable[[Form], Found]] = [check_placeholders, check_links, check_promises, check_grade,
                                              check_buttons, check_web_length, check_sms_length, check_sms_plain]


def check_answer(name: str, answer: Dict[str, Any], values: Dict[str, str],
                 rules: Optional[Dict[str, Any]] = None) -> List[Problem]:
    """Every problem with one answer: its source, then each form's checks (FORM_CHECKS),
    then the words it must keep. `values` are the clinic settings that fill
    {placeholders} (common.settings.placeholders)."""
    rules = rules or load_rules()
    problems = [Problem(name, "answer", "source", message, fix)
                for message, fix in source_problems((answer.get("source") or "").strip(), rules)]
    forms = ["sms"] if answer.get("sms_only") else ["web", "sms"]
    for form_name in forms:
        part = answer.get(form_name) or {}
        form = Form(form_name, part, (part.get("text") or "").strip(), values, rules)
        if not form.text:
            problems.append(Problem(name, form_name, "present", f"there is no {form.label} text",
                                    f"write the {form.label} form of this answer"))
            continue
        for check in FORM_CHECKS:
            problems += [Problem(name, form_name, *found) for found in check(form)]
    for word in (rules.get("required") or {}).get(name, []):
        for form_name in forms:
            if word.lower() not in ((answer.get(form_name) or {}).get("text") or "").lower():
                problems.append(Problem(name, form_name, "required", f"it must say {word!r}",
                                        f"put {word!r} back: this answer is checked for it on purpose"))
    return problems


def check_store(answers: Dict[str, Dict[str, Any]], values: Dict[str, str],
                rules: Optional[Dict[str, Any]] = None) -> Tuple[List[Problem], List[Dict[str, Any]]]:
    """Problems over all answers (each answer's, plus the median grade), and one
    summary row per answer for the table in `make check-content` and the editor."""
    rules = rules or load_rules()
    problems: List[Problem] = []
    rows = []
    for name in sorted(answers):
        answer = answers[name]
        own = check_answer(name, answer, values, rules)
        problems.extend(own)
        web = (answer.get("web") or {}).get("text") or ""
        sms = answer.get("sms") or {}
        shown = web or sms.get("text") or ""
        rows.append({
            "answer": name,
            "web_grade": plain_grade(web, rules, values) if web and not answer.get("sms_only") else None,
            "sms_grade": plain_grade(sms.get("text", ""), rules, values) if sms.get("text") else None,
            "sms_segments": segments(sms_body(sms, values, rules))[1] if sms.get("text") else None,
            "preview": shown if len(shown) <= 80 else shown[:80] + "...",
            "words": f"{web} {sms.get('text') or ''}",  # what the editor's search looks in
            "source": answer.get("source"),
            "reviewed": answer.get("reviewed_on"),
            "status": "ok" if not own else "; ".join(sorted({p.check for p in own})),
            "problems": [asdict(p) for p in own],
        })
    median = median_grade(answers, rules, values)
    if median > rules["max_median_grade"]:
        problems.append(Problem("all answers", "web", "median_grade",
                                f"the median reading grade is {median}, above {rules['max_median_grade']}",
                                "make the hardest answers plainer"))
    return problems, rows


def median_grade(answers: Dict[str, Dict[str, Any]], rules: Dict[str, Any],
                 values: Optional[Dict[str, str]] = None) -> float:
    values = clinic_values() if values is None else values
    grades = [plain_grade(a["web"]["text"], rules, values) for a in answers.values()
              if not a.get("sms_only") and (a.get("web") or {}).get("text")]
    return round(statistics.median(grades), 1) if grades else 0.0


def check_save(name: str, answer: Dict[str, Any], answers: Dict[str, Dict[str, Any]],
               values: Dict[str, str], rules: Optional[Dict[str, Any]] = None) -> List[Problem]:
    """What a save of `answer` as `name` would break: its own problems, and the
    median grade of all answers with this one changed."""
    rules = rules or load_rules()
    problems = check_answer(name, answer, values, rules)
    after = dict(answers, **{name: answer})
    median = median_grade(after, rules, values)
    if median > rules["max_median_grade"] and median > median_grade(answers, rules, values):
        problems.append(Problem(name, "web", "median_grade",
                                f"with this change the median reading grade of all answers is {median}, "
                                f"above {rules['max_median_grade']}", "make this answer plainer"))
    return problems
