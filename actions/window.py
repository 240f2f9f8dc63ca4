"""The clinic's HSG timing rule as pure functions (no Rasa imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, Mapping, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

Status = Literal[
    "ok", "next_cycle_estimate", "bleeding_past_window", "pregnancy_test", "period_late", "short_cycle", "invalid"
]

OK: Final = "ok"
NEXT_CYCLE_ESTIMATE: Final = "next_cycle_estimate"
BLEEDING_PAST_WINDOW: Final = "bleeding_past_window"
PREGNANCY_TEST: Final = "pregnancy_test"
PERIOD_LATE: Final = "period_late"
SHORT_CYCLE: Final = "short_cycle"
# Ovulation comes about this many days before the next period (the luteal phase).
LUTEAL_DAYS: Final = 14
INVALID: Final = "invalid"


@dataclass(frozen=True)
class WindowPolicy:
    """Clinic numbers for the timing rule (see clinic.yml)."""

    last_cycle_day: int = 10
    default_start_day: int = 7
    default_cycle_length: int = 28
    max_days_since_period: int = 42
    device_check_months: int = 3
    min_start_day: int = 1
    short_cycle_under: int = 25
    days_before_ovulation: int = 4

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> WindowPolicy:
        """Build a policy from the clinic.yml mapping (`window` section and `device_check_months`)."""
        window = settings.get("window") or {}
        defaults = cls()

        def pick(source: Mapping[str, Any], key: str) -> int:
            """Read one positive integer setting, falling back to the default."""
            value = source.get(key)
            if value is None:
                return int(getattr(defaults, key))
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"clinic setting {key!r} must be a positive integer, got {value!r}")
            return value

        policy = cls(
            last_cycle_day=pick(window, "last_cycle_day"),
            default_start_day=pick(window, "default_start_day"),
            default_cycle_length=pick(window, "default_cycle_length"),
            max_days_since_period=pick(window, "max_days_since_period"),
            device_check_months=pick(settings, "device_check_months"),
            min_start_day=pick(window, "min_start_day"),
            short_cycle_under=pick(window, "short_cycle_under"),
            days_before_ovulation=pick(window, "days_before_ovulation"),
        )
        if policy.min_start_day > policy.last_cycle_day:
            raise ValueError("window.min_start_day must not be after window.last_cycle_day")
        if policy.default_start_day > policy.last_cycle_day:
            raise ValueError("window.default_start_day must not be after window.last_cycle_day")
        if policy.default_cycle_length <= policy.last_cycle_day:
            raise ValueError("window.default_cycle_length must be longer than window.last_cycle_day")
        return policy


@dataclass(frozen=True)
class WindowResult:
    """Outcome of the timing rule; dates and cycle days are None unless a window was computed."""

    status: Status
    start: Optional[date] = None
    end: Optional[date] = None
    start_day: Optional[int] = None
    end_day: Optional[int] = None
    cycle_start: Optional[date] = None
    is_estimate: bool = False


def cycle_day(cycle_start: date, day: date) -> int:
    """Cycle day number of a date (day 1 = first day of bleeding)."""
    return (day - cycle_start).days + 1


def day_date(cycle_start: date, day_number: int) -> date:
    """Calendar date of a cycle day number."""
    return cycle_start + timedelta(days=day_number - 1)


def last_day(policy: WindowPolicy, cycle_length: Optional[int]) -> int:
    """The last cycle day for the exam. With a stated cycle shorter than short_cycle_under
    days, ovulation (about cycle length - 14) can come before the usual last day, so the
    window ends days_before_ovulation days before it."""
    if cycle_length is None or cycle_length >= policy.short_cycle_under:
        return policy.last_cycle_day
    return min(policy.last_cycle_day, cycle_length - LUTEAL_DAYS - policy.days_before_ovulation)


def _window(
    cycle_start: date,
    start_day: int,
    today: date,
    policy: WindowPolicy,
    status: Status,
    is_estimate: bool,
    end_day: int,
) -> WindowResult:
    """Window from start_day (not before the clinic's first day, moved up to today if it has
    begun) to end_day; a short cycle with no day left gets no window."""
    start_day = max(start_day, cycle_day(cycle_start, today), policy.min_start_day)
    if start_day > end_day:
        return WindowResult(SHORT_CYCLE, cycle_start=cycle_start)
    return WindowResult(
        status=status,
        start=day_date(cycle_start, start_day),
        end=day_date(cycle_start, end_day),
        start_day=start_day,
        end_day=end_day,
        cycle_start=cycle_start,
        is_estimate=is_estimate,
    )


def _next_cycle(period_start: date, today: date, policy: WindowPolicy, cycle_length: Optional[int]) -> WindowResult:
    """Estimated window of the next cycle; only called while that next period is not yet due."""
    cycle_start = period_start + timedelta(days=cycle_length or policy.default_cycle_length)
    return _window(
        cycle_start, policy.default_start_day, today, policy, NEXT_CYCLE_ESTIMATE, True, last_day(policy, cycle_length)
    )


def period_overdue(period_start: date, today: date, policy: WindowPolicy, cycle_length: Optional[int] = None) -> bool:
    """True once the next period is due (a cycle length has passed): it may be late, so no dates."""
    return (today - period_start).days >= (cycle_length or policy.default_cycle_length)


def compute_window(
    period_start: Optional[date],
    bleeding_end: Optional[date],
    today: date,
    policy: WindowPolicy,
    cycle_length: Optional[int] = None,
    expected: bool = False,
    *,
    still_bleeding: bool = False,
    end_expected: bool = False,
) -> WindowResult:
    """Apply the clinic rule: after bleeding stops, by the last cycle day, never in the past.

    Safety rules (not settings): once the next period is due and no later period was
    given, the period may be late, so no dates (PERIOD_LATE); bleeding that lasts, or is
    expected (end_expected: the stop date is a forecast) to last, past the last cycle day
    gets no window this cycle (BLEEDING_PAST_WINDOW); with a short cycle the window ends
    before ovulation, and when no day is left there is none (SHORT_CYCLE).
    """
    if period_start is None:  # (no periods at all is answered before: actions/flow.py)
        return WindowResult(PREGNANCY_TEST)
    if cycle_length is not None and cycle_length <= policy.last_cycle_day:
        raise ValueError(f"cycle_length must be longer than {policy.last_cycle_day} days")
    if not expected and period_start > today:
        return WindowResult(INVALID)
    if bleeding_end is not None and (
        bleeding_end < period_start or (bleeding_end > today and not (expected or end_expected))
    ):
        return WindowResult(INVALID)
    if (today - period_start).days > policy.max_days_since_period:
        return WindowResult(PREGNANCY_TEST)
    if not expected and period_overdue(period_start, today, policy, cycle_length):
        return WindowResult(PERIOD_LATE, cycle_start=period_start)

    end_day = last_day(policy, cycle_length)
    today_day = cycle_day(period_start, today)
    if bleeding_end is not None:
        start_day = cycle_day(period_start, bleeding_end) + 1
        if start_day > policy.last_cycle_day:
            return WindowResult(BLEEDING_PAST_WINDOW, cycle_start=period_start)
    elif still_bleeding and not expected:
        if today_day >= policy.last_cycle_day:
            return WindowResult(BLEEDING_PAST_WINDOW, cycle_start=period_start)
        start_day = max(policy.default_start_day, today_day + 1)
    else:
        start_day = policy.default_start_day

    if today_day > end_day:
        if end_day < policy.last_cycle_day and today_day <= policy.last_cycle_day:
            return WindowResult(SHORT_CYCLE, cycle_start=period_start)
        return _next_cycle(period_start, today, policy, cycle_length)
    return _window(period_start, start_day, today, policy, OK, expected, end_day)


def device_check_date(placed: date, policy: WindowPolicy) -> date:
    """Date of the confirmation HSG: device_check_months calendar months after placement."""
    return placed + relativedelta(months=policy.device_check_months)


def today_in(tz_name: str, now: Optional[datetime] = None) -> date:
    """Today's date in the clinic's time zone (now may be given, timezone-aware, for testing)."""
    try:
        zone: Any = ZoneInfo(tz_name)
    except ZoneInfoNotFoundError:  # pragma: no cover - no system tz database: fall back to pytz
        import pytz

        zone = pytz.timezone(tz_name)
    moment = now if now is not None else datetime.now(tz=zone)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(zone).date()
