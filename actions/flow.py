"""Turn logic of the two date conversations, as plain functions (no Rasa imports).

Each function takes what the patient said plus the current slots and returns the
slot updates and the responses to send (by response name, never literal text), so
the Rasa actions in actions.py stay thin and this logic is tested directly.

`language` is the conversation's language ("en" or "es", the slot `language`): it
chooses how dates are read (Spanish wordings, the clinic's Spanish date order
`date_order_es`) and how the dates shown in the answers are written (Spanish month and
weekday names come from babel's locale data, not from this code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Optional, cast

from babel import localedata
from babel.dates import format_date as babel_format_date
from babel.dates import get_date_format

from actions.dates import SPANISH, DateFlags, DateOrder, detect_flags, extract_dates, fold
from actions.window import WindowPolicy, compute_window, device_check_date, period_overdue
from common.devices import names_adiana, names_other_device

TIMING_SLOTS = (
    "period_start",
    "bleeding_end",
    "bleeding_end_unknown",
    "still_bleeding",
    "bleeding_end_expected",
    "period_expected",
    "no_periods",
    "period_since",
    "period_too_old",
    "period_late",
    "cycle_length",
    "hsg_window_start",
    "hsg_window_end",
)
# What a patient said about an earlier cycle that no longer applies once a new period date is given.
CYCLE_SLOTS = (
    "bleeding_end",
    "bleeding_end_unknown",
    "still_bleeding",
    "bleeding_end_expected",
    "no_periods",
    "period_since",
    "period_too_old",
    "period_late",
)
DEVICE_SLOTS = ("device_placed", "device_check_date", "device_other")
# Intents with which a patient is answering the form's question; with these, a
# message without a usable date gets a helpful re-ask instead of being treated as
# an interruption (which Rasa hands to the interruption rules).
ANSWERING_INTENTS = {"inform", "affirm", "deny", "nlu_fallback", "timing", "device_confirmation"}
# A message with these intents is never read for dates: "I fainted yesterday" is a
# symptom to act on now, not the day the bleeding stopped.
NOT_FOR_THE_FORM = {"report_symptoms"}
# Which response explains each kind of unusable date (see actions/dates.py).
PROBLEM_RESPONSES = {
    "impossible": "utter_date_problem_impossible",
    "unreadable": "utter_date_problem_unreadable",
    "too_old": "utter_date_problem_too_old",
    "too_far": "utter_date_problem_too_far",
    "future": "utter_date_problem_future",
}
# Asked by Rasa's form whenever the validator requests `period_since`.
LATE_PERIOD_QUESTION = "utter_ask_period_since"
# The first year Essure or Adiana could have been placed (Essure was approved in 2002), and the
# last: Essure was not sold in the US after 2018, Adiana after 2012 (docs/facts.md, Essure and Adiana).
FIRST_DEVICE_YEAR = 2002
LAST_ESSURE_YEAR = 2018
LAST_ADIANA_YEAR = 2012


@dataclass
class Say:
    """One response to send: its name (an answer file in content/answers/) and the values it shows."""

    response: str
    values: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    """What one patient message changes: slot updates, responses, and the next question."""

    slots: Dict[str, Any] = field(default_factory=dict)
    say: List[Say] = field(default_factory=list)
    handled: bool = False
    requested_slot: Optional[str] = None


def long_date(value: date, today: date, language: str = "en") -> str:
    """'Monday, December 1', with the year only when it is not this year. In another
    language the locale's full date ("miércoles, 30 de septiembre de 2026"), the year
    dropped by the same rule."""
    if language != "en" and localedata.exists(language):
        return babel_format_date(value, _date_pattern(language, value.year != today.year), locale=language)
    text = f"{value:%A}, {value:%B} {value.day}"
    return text if value.year == today.year else f"{text}, {value.year}"


def _date_pattern(language: str, with_year: bool) -> str:
    """The locale's full date pattern (CLDR), without its year part when not wanted:
    "EEEE, d 'de' MMMM 'de' y" -> "EEEE, d 'de' MMMM"."""
    pattern = get_date_format("full", locale=language).pattern
    return pattern if with_year else re.sub(r"[\s,]*(?:'[^']*'\s*)?y+", "", pattern).strip()


def date_order(settings: Dict[str, Any], language: str = "en") -> DateOrder:
    """How the clinic's patients write 3/11 in this language: `date_order_<language>`
    in clinic.yml when set, else `date_order`."""
    order = (
        settings["date_order"]
        if language == "en"
        else (settings.get(f"date_order_{language}") or settings["date_order"])
    )
    if order not in ("MDY", "DMY"):
        raise ValueError(f"date_order must be MDY or DMY, not {order!r}")
    return cast(DateOrder, order)


def parse_iso(value: Any) -> Optional[date]:
    """A slot's ISO date, or None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _cycle_length(slots: Dict[str, Any]) -> Optional[int]:
    length = slots.get("cycle_length")
    return int(length) if length else None


def timing_required(slots: Dict[str, Any], policy: WindowPolicy, today: date) -> List[str]:
    """The slots the timing form still needs, given what is known so far.

    Once the last period began a cycle length ago or more, the next one is due: the
    form asks whether a period has come since (`period_since`) before anything else,
    and a "no" or "not sure" ends it with no dates (the period may be late).
    """
    if slots.get("no_periods") or slots.get("period_late"):
        return []
    required = ["period_start"]
    start = parse_iso(slots.get("period_start"))
    if start is not None and not slots.get("period_expected"):
        if (today - start).days > policy.max_days_since_period:
            return required
        if period_overdue(start, today, policy, _cycle_length(slots)):
            return required + ["period_since"]
    if not (slots.get("period_expected") or slots.get("bleeding_end_unknown")):
        required.append("bleeding_end")
    return required


def _next_missing(required: List[str], slots: Dict[str, Any]) -> Optional[str]:
    return next((name for name in required if slots.get(name) is None), None)


def _negated_date(text: str, date_text: str, language: str = "en") -> bool:
    """True when the date is the one being corrected away: "not the 20th", "not on Nov 20"
    (Spanish: "no el 20", "no fue el 20")."""
    if (
        re.search(r"\bnot\s+(?:on\s+)?(?:the\s+)?" + re.escape(date_text.removeprefix("the ")), text, re.IGNORECASE)
        is not None
    ):
        return True
    if language != SPANISH:
        return False
    bare = re.sub(r"^(?:el|del)\s+", "", fold(date_text))
    return re.search(r"\bno\s+(?:fue\s+|era\s+|es\s+)?(?:el\s+|del\s+)?" + re.escape(bare), fold(text)) is not None


def timing_turn(
    text: str,
    intent: Optional[str],
    slots: Dict[str, Any],
    requested: Optional[str],
    today: date,
    settings: Dict[str, Any],
    language: str = "en",
) -> Turn:
    """Reads dates and bleeding answers from one message of the timing conversation."""
    policy = WindowPolicy.from_settings(settings)
    turn = Turn()
    if intent in NOT_FOR_THE_FORM:
        return turn  # not handled: Rasa's rules answer it (the urgent answer stops the form)
    current = dict(slots)
    flags = detect_flags(text, language)
    if _cancels(text, intent, flags):
        return turn  # not handled: the rule "patient stops the form" answers it
    mentions = _timing_mentions(text, flags, current, requested, today, settings, language)

    if flags["cycle_length"]:
        turn.slots["cycle_length"] = float(flags["cycle_length"])
    if requested == "period_since" and not any(m.role in ("period_start", "expected_period") for m in mentions):
        return _period_since_turn(turn, current, intent, flags, policy, today)
    if _is_late(text, flags, mentions, today):
        turn.slots.update(
            {name: None for name in CYCLE_SLOTS}, period_start=None, period_expected=None, period_late=True
        )
        turn.handled = True
        return turn  # nothing more to ask: no dates while the period is late
    if requested == "bleeding_end" and not mentions and _bleeding_stopped_words(turn, flags, current, today):
        current.update(turn.slots)
        turn.requested_slot = _next_missing(timing_required(current, policy, today), current)
        return turn
    confirms_long_ago = (
        requested == "period_start"
        and current.get("period_too_old")
        and not mentions
        and (intent == "affirm" or flags.get("yes"))
    )
    if flags.get("no_periods") or confirms_long_ago:
        turn.slots["no_periods"] = True
        turn.handled = True
    for mention in mentions:
        _apply_mention(turn, current, mention, mentions, today, language)
    _apply_bleeding_words(turn, flags, intent, requested)
    current.update(turn.slots)
    turn.requested_slot = _next_missing(timing_required(current, policy, today), current)
    return turn


def _cancels(text: str, intent: Optional[str], flags: DateFlags) -> bool:
    """Only a clear "never mind" (or the button) ends the date questions: a bare "no", "ya no"
    or "not yet" is an answer to the question asked."""
    return bool(flags.get("cancel")) or (intent == "deny" and not text.strip())


# A period start this recent means the period came (even if late): "it came 3 days late, on the 24th".
CAME_WITHIN_DAYS = 21


# Words that say the period did come (with a start date this cycle, it is not late now).
RE_CAME = re.compile(
    r"\b(?:started|starts|came|began|begun|arrived|showed\s+up|got\s+(?:it|my\s+period)|empez\w*"
    r"|comenz\w*|inici\w*|me\s+(?:bajo|llego|vino)|llego|vino|bajo)\b"
)
RE_NOT_BEFORE = re.compile(r"(?:\bno\s+(?:me\s+|se\s+|ha\s+|me\s+ha\s+)?|\bnot\s+|n't\s+|\bnever\s+)$")


def _says_it_came(text: str) -> bool:
    """ "it came", "empezó el 24" (not "no me llegó", "hasn't come")."""
    folded = fold(text)
    return any(not RE_NOT_BEFORE.search(folded[: m.start()]) for m in RE_CAME.finditer(folded))


# No periods for months or years: the no-periods answer, not the late one.
RE_LONG_TIME = re.compile(
    r"\b(?:months|years|meses|años|anos|a\s+year|un\s+año|un\s+ano|a\s+long\s+time"
    r"|mucho\s+tiempo)\b"
)


def _is_late(text: str, flags: DateFlags, mentions: List[Any], today: date) -> bool:
    """Words that say the period is due but has not come, or a due date on or before today;
    unless the message also gives a period start this cycle (it came), or says there have
    been no periods for months (the no-periods answer)."""
    came = _says_it_came(text) and any(
        m.role == "period_start"
        and m.value is not None
        and not m.problem
        and 0 <= (today - m.value).days < CAME_WITHIN_DAYS
        for m in mentions
    )
    if came:
        return False
    long_gone = flags.get("no_periods") and (not flags.get("late") or RE_LONG_TIME.search(text.lower()))
    past_due = any(m.role == "expected_period" and m.value is not None and m.value <= today for m in mentions)
    return not long_gone and (bool(flags.get("late")) or past_due)


def _bleeding_stopped_words(turn: Turn, flags: DateFlags, current: Dict[str, Any], today: date) -> bool:
    """An answer to "when did the bleeding stop?" with no date: "ya paró", "it's done" (stopped by
    today: the exam can be from tomorrow), or "not yet", "todavía no" (still bleeding)."""
    if flags.get("stopped") and not flags.get("still_bleeding"):
        start = parse_iso(current.get("period_start"))
        if start is None or start > today:
            return False
        turn.slots.update(
            bleeding_end=today.isoformat(),
            bleeding_end_unknown=None,
            still_bleeding=None,
            bleeding_end_expected=None,
            no_periods=None,
            last_date_slot="bleeding_end",
        )
        turn.say.append(Say("utter_readback_bleeding_stopped"))
    elif flags.get("not_yet") or flags.get("still_bleeding"):
        turn.slots.update(bleeding_end=None, bleeding_end_unknown=True, still_bleeding=True)
        turn.say.append(Say("utter_readback_still_bleeding"))
    else:
        return False
    turn.handled = True
    return True


def _timing_mentions(
    text: str,
    flags: DateFlags,
    current: Dict[str, Any],
    requested: Optional[str],
    today: date,
    settings: Dict[str, Any],
    language: str = "en",
) -> List[Any]:
    """The dates in the message, each with its role. A date with no word around it
    belongs to the question being asked or, in a correction ("no, it was the 12th"), to
    the date read back last; in "not the 20th, the 19th" the date after "not" is dropped."""
    default_role = requested if requested in ("period_start", "bleeding_end") else "period_start"
    if flags.get("correction") and current.get("last_date_slot") in ("period_start", "bleeding_end"):
        default_role = current["last_date_slot"]
    mentions = extract_dates(
        text,
        today,
        date_order(settings, language),
        default_role=default_role,
        known_period_start=parse_iso(current.get("period_start")),
        language=language,
    )
    if flags.get("correction"):
        mentions = [m for m in mentions if not _negated_date(text, m.text, language)] or mentions
    return mentions


def _apply_mention(
    turn: Turn, current: Dict[str, Any], mention: Any, mentions: List[Any], today: date, language: str = "en"
) -> None:
    """One date: a period start (or expected period) or a bleeding stop, read back, or
    refused with its reason. `current` follows every slot set so far."""
    role = mention.role
    if role == "device_placed":
        return
    slot = "bleeding_end" if role == "bleeding_end" else "period_start"
    turn.handled = True
    if slot == "bleeding_end" and mention.problem == "too_far" and mention.value is not None:
        # "I expect it to stop Dec 4": a forecast stop date, not a typo.
        if _expected_stop(turn, current, mention.value, today, language):
            current.update(turn.slots)
        return
    if slot == "period_start" and mention.problem == "too_old" and current.get("period_too_old"):
        # A second period date over a year ago: believe it (no periods for a long
        # time) and give the pregnancy-test answer rather than asking again.
        turn.slots.update(period_start=None, no_periods=True)
        return
    if mention.problem:
        turn.slots[slot] = None
        if slot == "period_start" and mention.problem == "too_old":
            turn.slots["period_too_old"] = True
        turn.say.append(Say(PROBLEM_RESPONSES[mention.problem], {"date_text": mention.text}))
        return
    if slot == "period_start":
        _apply_period_start(turn, current, mention, mentions, today, language)
    elif not _apply_bleeding_end(turn, current, mention, today, language):
        return
    turn.slots["last_date_slot"] = slot
    current.update(turn.slots)


def _apply_period_start(
    turn: Turn, current: Dict[str, Any], mention: Any, mentions: List[Any], today: date, language: str = "en"
) -> None:
    value, role = mention.value, mention.role
    is_new = value.isoformat() != current.get("period_start")
    turn.slots["period_start"] = value.isoformat()
    turn.slots["period_expected"] = role == "expected_period"
    if is_new and not any(m.role == "bleeding_end" for m in mentions):
        # A different cycle: what was said about the old one no longer applies.
        turn.slots.update({name: None for name in CYCLE_SLOTS})
    if role == "expected_period":
        turn.slots["bleeding_end_unknown"] = True
    turn.say.append(
        Say(
            "utter_readback_expected_period" if role == "expected_period" else "utter_readback_period_start",
            {"date_text": long_date(value, today, language)},
        )
    )


def _apply_bleeding_end(turn: Turn, current: Dict[str, Any], mention: Any, today: date, language: str = "en") -> bool:
    """Takes a bleeding stop date; False (and why) when it is before the period or ahead."""
    value = mention.value
    start = parse_iso(turn.slots.get("period_start", current.get("period_start")))
    if start and value < start:
        turn.slots["bleeding_end"] = None
        turn.say.append(Say("utter_date_problem_end_before_start", {"date_text": long_date(value, today, language)}))
        return False
    if value > today:
        turn.slots["bleeding_end"] = None
        turn.say.append(Say("utter_date_problem_future", {"date_text": mention.text}))
        return False
    turn.slots.update(
        bleeding_end=value.isoformat(), bleeding_end_unknown=None, still_bleeding=None, bleeding_end_expected=None
    )
    turn.say.append(Say("utter_readback_bleeding_end", {"date_text": long_date(value, today, language)}))
    return True


def _apply_bleeding_words(turn: Turn, flags: DateFlags, intent: Optional[str], requested: Optional[str]) -> None:
    """ "still bleeding", "not sure" without a stop date, or a helpful re-ask when an
    answer to the question held no date at all."""
    if turn.slots.get("bleeding_end") is not None:
        return
    if flags.get("still_bleeding"):
        turn.slots.update(bleeding_end=None, bleeding_end_unknown=True, still_bleeding=True)
        turn.say.append(Say("utter_readback_still_bleeding"))
        turn.handled = True
    elif flags.get("unsure") and requested == "bleeding_end":
        turn.slots.update(bleeding_end=None, bleeding_end_unknown=True)
        turn.say.append(Say("utter_readback_end_unknown"))
        turn.handled = True
    elif not turn.handled and intent in ANSWERING_INTENTS and requested:
        turn.slots[requested] = None
        turn.say.append(Say("utter_need_rough_date" if flags.get("unsure") else "utter_no_date_found"))
        turn.handled = True


def _expected_stop(turn: Turn, current: Dict[str, Any], value: date, today: date, language: str = "en") -> bool:
    """Takes a future bleeding stop date as a forecast; False when it is before the period."""
    start = parse_iso(turn.slots.get("period_start", current.get("period_start")))
    if start is not None and value < start:
        turn.slots["bleeding_end"] = None
        turn.say.append(Say("utter_date_problem_end_before_start", {"date_text": long_date(value, today, language)}))
        return False
    turn.slots.update(
        bleeding_end=value.isoformat(),
        bleeding_end_expected=True,
        bleeding_end_unknown=None,
        still_bleeding=True,
        last_date_slot="bleeding_end",
    )
    turn.say.append(Say("utter_readback_bleeding_expected", {"date_text": long_date(value, today, language)}))
    turn.handled = True
    return True


def _period_since_turn(
    turn: Turn, current: Dict[str, Any], intent: Optional[str], flags: DateFlags, policy: WindowPolicy, today: date
) -> Turn:
    """The answer to "has a new period started since then?" (no new date in the message)."""
    # The words decide before the intent: "I have not" may look like an affirmation to the model.
    if flags.get("no") or flags.get("unsure") or flags.get("no_periods") or flags.get("late"):
        turn.slots["period_since"] = False
        turn.handled = True
    elif flags.get("yes") or (intent == "affirm" and not flags.get("unsure")):
        # Yes: forget the old cycle and ask for the new period's first day.
        turn.slots.update({name: None for name in CYCLE_SLOTS}, period_start=None)
        turn.handled = True
    elif intent == "deny":
        turn.slots["period_since"] = False
        turn.handled = True
    elif intent in ANSWERING_INTENTS:
        turn.slots["period_since"] = None  # not an answer: the form asks the question again
        turn.handled = True
    current.update(turn.slots)
    turn.requested_slot = _next_missing(timing_required(current, policy, today), current)
    return turn


def device_turn(
    text: str,
    intent: Optional[str],
    slots: Dict[str, Any],
    requested: Optional[str],
    today: date,
    settings: Dict[str, Any],
    language: str = "en",
) -> Turn:
    """Reads the placement date from one message of the device conversation."""
    turn = Turn()
    if intent in NOT_FOR_THE_FORM or _cancels(text, intent, detect_flags(text, language)):
        return turn
    if names_other_device(text):
        # An IUD or an arm implant: an HSG does not check those (action_device_check says so).
        turn.slots.update(device_other=True, device_placed=None)
        turn.handled = True
        return turn
    last_year = LAST_ADIANA_YEAR if names_adiana(text) else LAST_ESSURE_YEAR
    for mention in extract_dates(
        text, today, date_order(settings, language), default_role="device_placed", language=language
    ):
        if mention.role in ("bleeding_end", "expected_period"):
            continue
        turn.handled = True
        problem = mention.problem
        value = mention.value
        if problem == "too_old" and value is not None and value.year >= FIRST_DEVICE_YEAR:
            problem = None  # devices placed years ago are real: Essure was sold until 2018
        if problem is None and value is not None and value > today:
            problem = "future"
        if problem or value is None:
            turn.slots["device_placed"] = None
            turn.say.append(Say(PROBLEM_RESPONSES[problem or "unreadable"], {"date_text": mention.text}))
            continue
        if value.year > last_year:
            # No Essure or Adiana was placed then: a different device, or a wrong year?
            turn.slots["device_placed"] = None
            turn.say.append(Say("utter_device_placed_recent", {"placed_text": long_date(value, today, language)}))
            continue
        turn.slots["device_placed"] = value.isoformat()
        turn.slots["last_date_slot"] = "device_placed"
        turn.say.append(Say("utter_readback_device_placed", {"date_text": long_date(value, today, language)}))
        break
    if not turn.handled and intent in ANSWERING_INTENTS and requested:
        turn.slots["device_placed"] = None
        turn.say.append(Say("utter_no_date_found"))
        turn.handled = True
    current = {**slots, **turn.slots}
    done = current.get("device_placed") or current.get("device_other")
    turn.requested_slot = None if done else "device_placed"
    return turn


# The answer when there is no window, by the timing rule's status (actions/window.py).
NO_WINDOW_RESPONSES = {
    "bleeding_past_window": "utter_window_bleeding_too_long",
    "period_late": "utter_window_period_late",
    "short_cycle": "utter_window_short_cycle",
    "pregnancy_test": "utter_window_pregnancy_test",
}


def timing_result(slots: Dict[str, Any], today: date, settings: Dict[str, Any], language: str = "en") -> Turn:
    """The window reply once the form has what it needs; sets the window slots."""
    turn = Turn(handled=True)
    turn.slots.update(hsg_window_start=None, hsg_window_end=None)
    if slots.get("period_late") or slots.get("no_periods"):
        late = slots.get("period_late")
        turn.say.append(Say("utter_window_period_late" if late else "utter_window_pregnancy_test"))
        return turn
    end = parse_iso(slots.get("bleeding_end"))
    result = compute_window(
        parse_iso(slots.get("period_start")),
        end,
        today,
        WindowPolicy.from_settings(settings),
        cycle_length=_cycle_length(slots),
        expected=bool(slots.get("period_expected")),
        still_bleeding=bool(slots.get("still_bleeding")),
        end_expected=bool(slots.get("bleeding_end_expected")),
    )
    if result.status not in ("ok", "next_cycle_estimate"):
        name = NO_WINDOW_RESPONSES.get(result.status, "utter_date_problem_end_before_start")
        turn.say.append(Say(name, {"date_text": long_date(end, today, language) if end else ""}))
        return turn
    assert result.start and result.end  # a window has both
    turn.slots.update(hsg_window_start=result.start.isoformat(), hsg_window_end=result.end.isoformat())
    if result.status == "next_cycle_estimate":
        name = "utter_window_estimate"
    elif slots.get("period_expected"):
        name = "utter_window_expected"
    elif result.start == result.end:
        name = "utter_window_one_day"
    else:
        name = "utter_window"
    turn.say.append(Say(name, _window_values(result, end, today, language)))
    turn.say.append(Say("utter_window_reminders"))
    return turn


def _window_values(result: Any, end: Optional[date], today: date, language: str) -> Dict[str, Any]:
    """What the window answers show: dates in words, cycle days, and ISO dates for the
    web chat's calendar (the responses' `custom` part)."""
    return {
        "start_text": long_date(result.start, today, language),
        "end_text": long_date(result.end, today, language),
        "start_day": result.start_day,
        "end_day": result.end_day,
        "cycle_start_text": long_date(result.cycle_start, today, language),
        "start_iso": result.start.isoformat(),
        "end_iso": result.end.isoformat(),
        "cycle_start_iso": result.cycle_start.isoformat(),
        "today_iso": today.isoformat(),
        "bleeding_end_iso": end.isoformat() if end and not result.is_estimate else "",
    }


def device_result(slots: Dict[str, Any], today: date, settings: Dict[str, Any], language: str = "en") -> Turn:
    """The confirmation-test date reply; sets device_check_date."""
    policy = WindowPolicy.from_settings(settings)
    placed = parse_iso(slots.get("device_placed"))
    turn = Turn(handled=True)
    if slots.get("device_other"):
        turn.say.append(Say("utter_device_not_checked_by_hsg"))
        return turn
    if placed is None:
        turn.say.append(Say("utter_no_date_found"))
        return turn
    check = device_check_date(placed, policy)
    turn.slots["device_check_date"] = check.isoformat()
    values = {
        "check_text": long_date(check, today, language),
        "placed_text": long_date(placed, today, language),
        "months": policy.device_check_months,
    }
    turn.say.append(Say("utter_device_check_due" if check >= today else "utter_device_check_passed", values))
    return turn
