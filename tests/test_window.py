"""Tests for the HSG timing rule in actions/window.py."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import yaml

from actions.window import (
    WindowPolicy,
    WindowResult,
    compute_window,
    cycle_day,
    device_check_date,
    today_in,
)

ROOT = Path(__file__).resolve().parents[1]
POLICY = WindowPolicy()
D = date


@pytest.mark.parametrize(
    "period_start, bleeding_end, today, kwargs, expected",
    [
        # today before the window, stop date unknown: day 7..10
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 5),
            {},
            WindowResult("ok", D(2026, 11, 9), D(2026, 11, 12), 7, 10, D(2026, 11, 3), False),
        ),
        # period started today: day 7..10
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 3),
            {},
            WindowResult("ok", D(2026, 11, 9), D(2026, 11, 12), 7, 10, D(2026, 11, 3), False),
        ),
        # today inside the window (day 9): window starts today, never in the past
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 11),
            {},
            WindowResult("ok", D(2026, 11, 11), D(2026, 11, 12), 9, 10, D(2026, 11, 3), False),
        ),
        # today is day 10, the last day: a one-day window today
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 12),
            {},
            WindowResult("ok", D(2026, 11, 12), D(2026, 11, 12), 10, 10, D(2026, 11, 3), False),
        ),
        # bleeding stopped day 5: window from day 6
        (
            D(2026, 11, 3),
            D(2026, 11, 7),
            D(2026, 11, 7),
            {},
            WindowResult("ok", D(2026, 11, 8), D(2026, 11, 12), 6, 10, D(2026, 11, 3), False),
        ),
        # bleeding stopped day 3, today day 8: starts today
        (
            D(2026, 11, 3),
            D(2026, 11, 5),
            D(2026, 11, 10),
            {},
            WindowResult("ok", D(2026, 11, 10), D(2026, 11, 12), 8, 10, D(2026, 11, 3), False),
        ),
        # bleeding stopped day 9: only day 10 is left
        (
            D(2026, 11, 3),
            D(2026, 11, 11),
            D(2026, 11, 11),
            {},
            WindowResult("ok", D(2026, 11, 12), D(2026, 11, 12), 10, 10, D(2026, 11, 3), False),
        ),
        # one-day bleed (stopped on day 1): window from day 2
        (
            D(2026, 11, 3),
            D(2026, 11, 3),
            D(2026, 11, 3),
            {},
            WindowResult("ok", D(2026, 11, 4), D(2026, 11, 12), 2, 10, D(2026, 11, 3), False),
        ),
        # still bleeding on day 4: stop date unknown, default day 7..10
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 6),
            {"still_bleeding": True},
            WindowResult("ok", D(2026, 11, 9), D(2026, 11, 12), 7, 10, D(2026, 11, 3), False),
        ),
        # still bleeding on day 8: earliest is tomorrow (day 9)
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 10),
            {"still_bleeding": True},
            WindowResult("ok", D(2026, 11, 11), D(2026, 11, 12), 9, 10, D(2026, 11, 3), False),
        ),
        # December period, January window (year boundary)
        (
            D(2026, 12, 28),
            None,
            D(2026, 12, 30),
            {},
            WindowResult("ok", D(2027, 1, 3), D(2027, 1, 6), 7, 10, D(2026, 12, 28), False),
        ),
        # end of January period, window in February
        (
            D(2027, 1, 29),
            None,
            D(2027, 1, 29),
            {},
            WindowResult("ok", D(2027, 2, 4), D(2027, 2, 7), 7, 10, D(2027, 1, 29), False),
        ),
        # leap year: Feb 25 2028 -> day 7 is Mar 2 (Feb 29 counted)
        (
            D(2028, 2, 25),
            None,
            D(2028, 2, 26),
            {},
            WindowResult("ok", D(2028, 3, 2), D(2028, 3, 5), 7, 10, D(2028, 2, 25), False),
        ),
        # non-leap year: Feb 25 2027 -> day 7 is Mar 3
        (
            D(2027, 2, 25),
            None,
            D(2027, 2, 26),
            {},
            WindowResult("ok", D(2027, 3, 3), D(2027, 3, 6), 7, 10, D(2027, 2, 25), False),
        ),
        # period starting on Feb 29 2028
        (
            D(2028, 2, 29),
            None,
            D(2028, 3, 1),
            {},
            WindowResult("ok", D(2028, 3, 6), D(2028, 3, 9), 7, 10, D(2028, 2, 29), False),
        ),
    ],
)
def test_window_this_cycle(
    period_start: date, bleeding_end: Optional[date], today: date, kwargs: Dict[str, Any], expected: WindowResult
) -> None:
    """Windows in the current cycle."""
    assert compute_window(period_start, bleeding_end, today, POLICY, **kwargs) == expected


@pytest.mark.parametrize(
    "period_start, bleeding_end, today, cycle_length, expected",
    [
        # window passed (day 18): next cycle Dec 1, window Dec 7..10, estimate
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 20),
            None,
            WindowResult("next_cycle_estimate", D(2026, 12, 7), D(2026, 12, 10), 7, 10, D(2026, 12, 1), True),
        ),
        # passed by one day (day 11)
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 13),
            None,
            WindowResult("next_cycle_estimate", D(2026, 12, 7), D(2026, 12, 10), 7, 10, D(2026, 12, 1), True),
        ),
        # custom 32-day cycle: next cycle Dec 5, window Dec 11..14
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 20),
            32,
            WindowResult("next_cycle_estimate", D(2026, 12, 11), D(2026, 12, 14), 7, 10, D(2026, 12, 5), True),
        ),
        # known stop date does not carry over to the estimated cycle (day 7 used)
        (
            D(2026, 11, 3),
            D(2026, 11, 5),
            D(2026, 11, 20),
            None,
            WindowResult("next_cycle_estimate", D(2026, 12, 7), D(2026, 12, 10), 7, 10, D(2026, 12, 1), True),
        ),
        # day 27 (26 days ago): the next period is due tomorrow, its window is still ahead
        (
            D(2026, 11, 3),
            None,
            D(2026, 11, 29),
            None,
            WindowResult("next_cycle_estimate", D(2026, 12, 7), D(2026, 12, 10), 7, 10, D(2026, 12, 1), True),
        ),
        # a stated 35-day cycle: 30 days ago is not yet due, so still an estimate
        (
            D(2026, 10, 21),
            None,
            D(2026, 11, 20),
            35,
            WindowResult("next_cycle_estimate", D(2026, 12, 1), D(2026, 12, 4), 7, 10, D(2026, 11, 25), True),
        ),
        # December period, passed window, next cycle in January (year boundary)
        (
            D(2026, 12, 10),
            None,
            D(2026, 12, 30),
            None,
            WindowResult("next_cycle_estimate", D(2027, 1, 13), D(2027, 1, 16), 7, 10, D(2027, 1, 7), True),
        ),
        # next cycle across Feb 29 in a leap year (Feb 5 + 28 days = Mar 4)
        (
            D(2028, 2, 5),
            None,
            D(2028, 2, 20),
            None,
            WindowResult("next_cycle_estimate", D(2028, 3, 10), D(2028, 3, 13), 7, 10, D(2028, 3, 4), True),
        ),
    ],
)
def test_window_next_cycle(
    period_start: date, bleeding_end: Optional[date], today: date, cycle_length: Optional[int], expected: WindowResult
) -> None:
    """A passed window gives an estimate for the next cycle, while that period is not yet due."""
    assert compute_window(period_start, bleeding_end, today, POLICY, cycle_length) == expected


@pytest.mark.parametrize(
    "expected_date, today, expected",
    [
        # next period expected Dec 1: window Dec 7..10, marked as an estimate
        (
            D(2026, 12, 1),
            D(2026, 11, 20),
            WindowResult("ok", D(2026, 12, 7), D(2026, 12, 10), 7, 10, D(2026, 12, 1), True),
        ),
        # expected today
        (
            D(2026, 11, 20),
            D(2026, 11, 20),
            WindowResult("ok", D(2026, 11, 26), D(2026, 11, 29), 7, 10, D(2026, 11, 20), True),
        ),
        # expected Dec 28, window in January
        (
            D(2026, 12, 28),
            D(2026, 12, 1),
            WindowResult("ok", D(2027, 1, 3), D(2027, 1, 6), 7, 10, D(2026, 12, 28), True),
        ),
        # expected date a few days ago: counted from it, today inside -> starts today
        (
            D(2026, 11, 12),
            D(2026, 11, 20),
            WindowResult("ok", D(2026, 11, 20), D(2026, 11, 21), 9, 10, D(2026, 11, 12), True),
        ),
    ],
)
def test_window_expected_period(expected_date: date, today: date, expected: WindowResult) -> None:
    """Planning ahead from the date the next period is expected."""
    assert compute_window(expected_date, None, today, POLICY, expected=True) == expected


@pytest.mark.parametrize(
    "period_start, bleeding_end, today, kwargs, status",
    [
        # bleeding stopped on day 10: nothing left this cycle
        (D(2026, 11, 3), D(2026, 11, 12), D(2026, 11, 12), {}, "bleeding_past_window"),
        # bleeding stopped on day 12
        (D(2026, 11, 3), D(2026, 11, 14), D(2026, 11, 15), {}, "bleeding_past_window"),
        # still bleeding on day 12
        (D(2026, 11, 3), None, D(2026, 11, 14), {"still_bleeding": True}, "bleeding_past_window"),
        # still bleeding on day 10 (the exam must follow the stop, so no day is left)
        (D(2026, 11, 3), None, D(2026, 11, 12), {"still_bleeding": True}, "bleeding_past_window"),
        # no known last period
        (None, None, D(2026, 11, 20), {}, "pregnancy_test"),
        # last period 43 days ago
        (D(2026, 10, 8), None, D(2026, 11, 20), {}, "pregnancy_test"),
        # last period months ago
        (D(2026, 6, 1), None, D(2026, 11, 20), {}, "pregnancy_test"),
        # still bleeding, but the period was long ago: pregnancy test first
        (D(2026, 9, 1), None, D(2026, 11, 20), {"still_bleeding": True}, "pregnancy_test"),
        # expected date passed long ago
        (D(2026, 9, 1), None, D(2026, 11, 20), {"expected": True}, "pregnancy_test"),
        # late-period rule: the next period is due today (28 days, default cycle) and no later one was given
        (D(2026, 10, 23), None, D(2026, 11, 20), {}, "period_late"),
        # last period 31 days ago, no later period: it may be late, no dates
        (D(2026, 10, 20), None, D(2026, 11, 20), {}, "period_late"),
        # 36 days ago (the old rule offered dates starting today)
        (D(2026, 10, 15), None, D(2026, 11, 20), {}, "period_late"),
        # 40 days ago (the old rule skipped the missed period and gave dates a cycle later)
        (D(2026, 10, 11), None, D(2026, 11, 20), {}, "period_late"),
        # exactly max_days_since_period (42): late, not yet the long-ago answer
        (D(2026, 10, 9), None, D(2026, 11, 20), {}, "period_late"),
        # a stated 30-day cycle, 31 days ago: due, so late
        (D(2026, 10, 20), None, D(2026, 11, 20), {"cycle_length": 30}, "period_late"),
        # still bleeding says nothing about a missed period
        (D(2026, 10, 15), None, D(2026, 11, 20), {"still_bleeding": True}, "period_late"),
        # bleeding expected to stop on day 11 (a forecast): no window this cycle
        (D(2026, 11, 17), D(2026, 11, 27), D(2026, 11, 20), {"end_expected": True}, "bleeding_past_window"),
        # bleeding expected to stop on day 10
        (D(2026, 11, 17), D(2026, 11, 26), D(2026, 11, 20), {"end_expected": True}, "bleeding_past_window"),
        # bleeding ended before it started
        (D(2026, 11, 3), D(2026, 11, 1), D(2026, 11, 20), {}, "invalid"),
        # period start in the future (not an expected date)
        (D(2026, 11, 25), None, D(2026, 11, 20), {}, "invalid"),
        # bleeding end in the future
        (D(2026, 11, 15), D(2026, 11, 22), D(2026, 11, 20), {}, "invalid"),
    ],
)
def test_window_no_dates(
    period_start: Optional[date], bleeding_end: Optional[date], today: date, kwargs: Dict[str, Any], status: str
) -> None:
    """Outcomes without a window carry no dates."""
    result = compute_window(period_start, bleeding_end, today, POLICY, **kwargs)
    assert result.status == status
    assert (result.start, result.end, result.start_day, result.end_day) == (None, None, None, None)
    assert result.is_estimate is False


def test_window_rejects_too_short_cycle() -> None:
    """A cycle shorter than the window is a programming error."""
    with pytest.raises(ValueError):
        compute_window(D(2026, 11, 3), None, D(2026, 11, 20), POLICY, cycle_length=10)


def test_window_uses_policy_numbers() -> None:
    """All numbers come from the policy (here: days 6..12, 30-day cycles)."""
    policy = WindowPolicy(last_cycle_day=12, default_start_day=6, default_cycle_length=30, max_days_since_period=50)
    assert compute_window(D(2026, 11, 1), None, D(2026, 11, 2), policy) == WindowResult(
        "ok", D(2026, 11, 6), D(2026, 11, 12), 6, 12, D(2026, 11, 1), False
    )
    # day 14 has passed day 12 -> next cycle Dec 1 with the 30-day default
    assert compute_window(D(2026, 11, 1), None, D(2026, 11, 14), policy).start == D(2026, 12, 6)
    # 29 days ago is before the 30-day cycle's next period: an estimate
    assert compute_window(D(2026, 10, 17), None, D(2026, 11, 15), policy).status == "next_cycle_estimate"
    # 45 days ago: past the 30-day cycle (late), within max_days_since_period=50
    assert compute_window(D(2026, 10, 1), None, D(2026, 11, 15), policy).status == "period_late"
    # 51 days ago: over max_days_since_period=50
    assert compute_window(D(2026, 9, 25), None, D(2026, 11, 15), policy).status == "pregnancy_test"


def test_window_expected_stop_inside_the_window() -> None:
    """Bleeding expected to stop on day 5 (a forecast): the window starts the day after."""
    result = compute_window(D(2026, 11, 17), D(2026, 11, 21), D(2026, 11, 19), POLICY, end_expected=True)
    assert (result.status, result.start, result.end, result.start_day) == ("ok", D(2026, 11, 22), D(2026, 11, 26), 6)
    # the same date given as a past stop date would be refused: it is in the future
    assert compute_window(D(2026, 11, 17), D(2026, 11, 21), D(2026, 11, 19), POLICY).status == "invalid"


def test_cycle_day() -> None:
    """Day 1 is the first day of bleeding."""
    assert cycle_day(D(2026, 11, 3), D(2026, 11, 3)) == 1
    assert cycle_day(D(2026, 12, 28), D(2027, 1, 6)) == 10


# ---------------------------------------------------------------- settings


def test_policy_from_clinic_yml() -> None:
    """The real clinic.yml maps onto the policy."""
    settings = yaml.safe_load((ROOT / "clinic.yml").read_text())
    assert WindowPolicy.from_settings(settings) == WindowPolicy(10, 7, 28, 42, 3)


@pytest.mark.parametrize(
    "settings, expected",
    [
        # empty settings: defaults
        ({}, WindowPolicy()),
        # partial window section: the rest default
        ({"window": {"last_cycle_day": 12}}, WindowPolicy(last_cycle_day=12)),
        # device months only
        ({"device_check_months": 6}, WindowPolicy(device_check_months=6)),
        # everything given
        (
            {
                "window": {
                    "last_cycle_day": 11,
                    "default_start_day": 8,
                    "default_cycle_length": 30,
                    "max_days_since_period": 35,
                },
                "device_check_months": 4,
            },
            WindowPolicy(11, 8, 30, 35, 4),
        ),
    ],
)
def test_policy_from_settings(settings: Dict[str, Any], expected: WindowPolicy) -> None:
    """from_settings reads the `window` section and `device_check_months`."""
    assert WindowPolicy.from_settings(settings) == expected


@pytest.mark.parametrize(
    "settings",
    [
        {"window": {"last_cycle_day": "ten"}},  # not a number
        {"window": {"last_cycle_day": 0}},  # not positive
        {"window": {"default_start_day": 11}},  # starts after the last day
        {"window": {"default_cycle_length": 9}},  # cycle shorter than the window
        {"device_check_months": True},  # a boolean is not a number
    ],
)
def test_policy_rejects_bad_settings(settings: Dict[str, Any]) -> None:
    """Bad clinic settings fail loudly."""
    with pytest.raises(ValueError):
        WindowPolicy.from_settings(settings)


# ---------------------------------------------------------------- device check


@pytest.mark.parametrize(
    "placed, months, expected",
    [
        (D(2026, 3, 3), 3, D(2026, 6, 3)),  # plain case
        (D(2026, 11, 30), 3, D(2027, 2, 28)),  # month end into a short February
        (D(2027, 11, 30), 3, D(2028, 2, 29)),  # month end into a leap February
        (D(2026, 11, 29), 3, D(2027, 2, 28)),  # Feb 29 does not exist in 2027
        (D(2026, 10, 31), 3, D(2027, 1, 31)),  # year boundary, 31-day month
        (D(2026, 12, 31), 3, D(2027, 3, 31)),  # year boundary
        (D(2026, 8, 31), 3, D(2026, 11, 30)),  # 31st into a 30-day month
        (D(2028, 2, 29), 3, D(2028, 5, 29)),  # placed on a leap day
        (D(2026, 3, 3), 6, D(2026, 9, 3)),  # months come from the policy
    ],
)
def test_device_check_date(placed: date, months: int, expected: date) -> None:
    """Confirmation test is a number of calendar months after placement."""
    assert device_check_date(placed, WindowPolicy(device_check_months=months)) == expected


# ---------------------------------------------------------------- time zone


@pytest.mark.parametrize(
    "now, expected",
    [
        (datetime(2026, 11, 21, 5, 0, tzinfo=timezone.utc), D(2026, 11, 20)),  # 10 pm in Denver (MST, UTC-7)
        (datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc), D(2026, 11, 21)),  # midnight in Denver
        (datetime(2026, 7, 1, 5, 59, tzinfo=timezone.utc), D(2026, 6, 30)),  # MDT (UTC-6)
        (datetime(2027, 1, 1, 6, 0, tzinfo=timezone.utc), D(2026, 12, 31)),  # new year in UTC, not yet in Denver
    ],
)
def test_today_in_clinic_zone(now: datetime, expected: date) -> None:
    """Today is taken in the clinic's time zone, not the server's."""
    assert today_in("America/Denver", now) == expected


def test_today_in_defaults_to_now() -> None:
    """Without `now` the current date in that zone is returned."""
    assert isinstance(today_in("America/Denver"), date)


def test_today_in_rejects_naive_now() -> None:
    """A naive datetime is ambiguous."""
    with pytest.raises(ValueError):
        today_in("America/Denver", datetime(2026, 11, 20, 12, 0))


# ---- short cycles and the clinic's first day (issue 22)


@pytest.mark.parametrize(
    "cycle_length, bleeding_end, expected_status, window",
    [
        # 28 days: the usual day 10
        (28, D(2026, 11, 4), "ok", (D(2026, 11, 5), D(2026, 11, 12), 3, 10)),
        # 25 days is not short: still day 10
        (25, D(2026, 11, 4), "ok", (D(2026, 11, 5), D(2026, 11, 12), 3, 10)),
        # 24 days: ovulation about day 10, so the window ends on day 6 (4 days before)
        (24, D(2026, 11, 4), "ok", (D(2026, 11, 5), D(2026, 11, 8), 3, 6)),
        # 22 days: ovulation about day 8, window ends on day 4; bleeding stopped day 3 -> day 4 only
        (22, D(2026, 11, 5), "ok", (D(2026, 11, 6), D(2026, 11, 6), 4, 4)),
        # 21 days: ends on day 3; bleeding to day 3 leaves no day: no dates, call the clinic
        (21, D(2026, 11, 5), "short_cycle", None),
    ],
)
def test_short_cycles_end_the_window_before_ovulation(cycle_length, bleeding_end, expected_status, window) -> None:
    result = compute_window(D(2026, 11, 3), bleeding_end, D(2026, 11, 5), POLICY, cycle_length=cycle_length)
    assert result.status == expected_status
    if window:
        assert (result.start, result.end, result.start_day, result.end_day) == window


def test_a_short_cycle_with_an_unknown_stop_date_gets_no_dates() -> None:
    # the stop date unknown: the window would start on day 7, after a 24-day cycle's day 6
    result = compute_window(D(2026, 11, 3), None, D(2026, 11, 4), POLICY, cycle_length=24)
    assert result.status == "short_cycle" and result.start is None


def test_short_cycle_settings_come_from_clinic_yml() -> None:
    policy = WindowPolicy.from_settings(
        {"window": {"short_cycle_under": 30, "days_before_ovulation": 2, "min_start_day": 5}}
    )
    # 28 days is short for this clinic: ovulation about day 14, window ends day 12 -> capped at 10
    result = compute_window(D(2026, 11, 3), D(2026, 11, 4), D(2026, 11, 4), policy, cycle_length=28)
    assert (result.start_day, result.end_day) == (5, 10)
    # 26 days: ovulation about day 12, ends on day 10 - 0 = 10; 25: ends on day 9
    result = compute_window(D(2026, 11, 3), D(2026, 11, 4), D(2026, 11, 4), policy, cycle_length=25)
    assert result.end_day == 9


def test_the_clinic_first_day_holds_back_an_early_window() -> None:
    policy = WindowPolicy(min_start_day=6)
    result = compute_window(D(2026, 11, 3), D(2026, 11, 4), D(2026, 11, 4), policy)
    assert (result.start, result.start_day) == (D(2026, 11, 8), 6)
    assert compute_window(D(2026, 11, 3), D(2026, 11, 4), D(2026, 11, 4), POLICY).start_day == 3


def test_the_shipped_clinic_yml_keeps_todays_first_day_and_the_short_cycle_rule() -> None:
    settings = yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))
    policy = WindowPolicy.from_settings(settings)
    assert (policy.min_start_day, policy.short_cycle_under, policy.days_before_ovulation) == (1, 25, 4)
