"""No demo phone numbers in production (issue 22): the demo values of a clinic file
(common/demo_settings.py) are found, `scripts/run.sh --prod` (`make run-prod`) refuses to
start with them before it writes or starts anything, naming each setting and what to do,
`make run` says so in one line at start-up, and `make check-content` warns and passes."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
import yaml
from conftest import ROOT

from common.demo_settings import demo_settings, fictional_phone

DEMO_LINK = "https://www.invisionsallyjobe.com/schedule"


def shipped():
    return yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))


def names(settings):
    return [item.name for item in demo_settings(settings)]


# --- finding them ---------------------------------------------------------------------------
def test_the_shipped_clinic_file_is_a_demo_its_three_phones_and_the_booking_link():
    found = {item.name: item for item in demo_settings(shipped())}
    assert sorted(found) == ["after_hours_phone", "billing_phone", "booking_url", "clinic_phone"]
    assert found["clinic_phone"].value == "303-555-0142" and "555-01xx" in found["clinic_phone"].reason
    assert found["booking_url"].value == DEMO_LINK and "demo_values" in found["booking_url"].reason


@pytest.mark.parametrize(
    "number",
    [
        "303-555-0142",
        "(303) 555-0100",
        "303.555.0199",
        "+1 303 555 0150",
        "1-303-555-0123",
        "+13035550142",
        "3035550142",
        "555-0142",
    ],
)
def test_a_fictional_number_is_found_however_it_is_written(number):
    assert fictional_phone(number, whole=True) == number
    assert fictional_phone(f"Call us at {number} today.") == number


def test_a_phone_setting_is_read_by_its_digits_whatever_the_punctuation():
    assert fictional_phone("303 555 01 42", whole=True) and fictional_phone("303-555-0142 ext. 2", whole=True)
    assert fictional_phone("303 555 01 42") == ""  # in running text only the usual ways of writing it count


@pytest.mark.parametrize(
    "number",
    [
        "303-555-0200",
        "303-555-0099",
        "303-555-1212",
        "303-420-7142",
        "(720) 863-0142",
        "911",
        "13035550142999",
        "2 to 3 business days",
    ],
)
def test_a_real_looking_number_is_not_a_demo(number):
    assert fictional_phone(number, whole=True) == "" and fictional_phone(f"call {number}") == ""


def test_any_phone_setting_and_a_number_inside_any_text_setting_in_either_language():
    settings = dict(
        shipped(),
        clinic_phone="303-420-7142",
        after_hours_phone="303-420-7199",
        billing_phone="303-420-7150",
        booking_url="https://clinic.example/book",
        fax_phone="303 555 0177",
        pregnancy_test_rule_es="llame al (303) 555-0123 antes",
    )
    settings["web"] = dict(settings["web"], calendar_note="Call 303-555-0160 to book.")
    assert names(settings) == ["pregnancy_test_rule_es", "web.calendar_note", "fax_phone"]


def test_the_marked_booking_link_is_a_demo_only_while_it_holds_the_marked_value():
    settings = dict(
        shipped(), clinic_phone="303-420-7142", after_hours_phone="303-420-7199", billing_phone="303-420-7150"
    )
    assert names(settings) == ["booking_url"]
    assert names(dict(settings, booking_url="https://clinic.example/book")) == []  # the clinic's own link
    assert names({key: value for key, value in settings.items() if key != "demo_values"}) == []  # unmarked
    with pytest.raises(ValueError, match="demo_values"):
        demo_settings(dict(settings, demo_values=["booking_url"]))


def test_the_copy_the_production_tests_start_with_has_no_demo_value(tmp_path):
    from scripts.servers import clinic_file

    assert names(yaml.safe_load(clinic_file(tmp_path).read_text())) == []


# --- scripts/run.sh ------------------------------------------------------------------------
def clinic_with(tmp_path, **changes):
    from scripts.servers import CLINIC_VALUES, clinic_file

    return clinic_file(tmp_path / "clinic", dict(CLINIC_VALUES, **changes))


def run(tmp_path, clinic, *args):
    """scripts/run.sh with its own state, run and services folders and no PostgreSQL
    settings (so the production profile would start local services), and no model (so
    the embedded default stops at the model check, after its start-up lines)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("HSG_PG_", "HSG_REDIS_"))}
    env.update(
        HSG_CLINIC_SETTINGS=str(clinic),
        HSG_STATE_DIR=str(tmp_path / "state"),
        HSG_SERVICES_DIR=str(tmp_path / "services"),
        HSG_RUN_DIR=str(tmp_path / "run"),
        HSG_MODEL=str(tmp_path / "no-model.tar.gz"),
        HSG_API_TOKEN="x",
        HSG_SMS_HASH_KEY="x",
        HSG_CONTENT_TOKEN="x",
        HSG_EDITOR_SECRET="x",
        RASA_PORT="5598",
    )
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "scripts/run.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    "change, setting, shown",
    [
        ({"clinic_phone": "303-555-0142"}, "clinic_phone", "303-555-0142"),
        ({"after_hours_phone": "(303) 555-0199"}, "after_hours_phone", "(303) 555-0199"),
        ({"billing_phone": "+1 303 555 0150"}, "billing_phone", "+1 303 555 0150"),
        ({"booking_url": DEMO_LINK}, "booking_url", DEMO_LINK),
    ],
)
def test_run_prod_is_refused_before_anything_starts_naming_the_setting(tmp_path, change, setting, shown):
    result, seconds = run(tmp_path, clinic_with(tmp_path, **change), "--prod")
    assert result.returncode == 1
    message = result.stderr
    assert "will not start" in message and f"  - {setting}: {shown} is " in message, message
    assert (
        "put the clinic's real number in " if setting.endswith("_phone") else "put the clinic's own value in "
    ) + setting in message
    assert str((tmp_path / "clinic" / "clinic.yml").resolve()) in message  # the file to change
    assert len([line for line in message.splitlines() if line.startswith("  - ")]) == 1  # only that setting
    assert "Traceback" not in result.stdout + result.stderr
    # Before PostgreSQL, Redis or anything else: no state, services or log folder, and fast.
    assert not (tmp_path / "state").exists() and not (tmp_path / "services").exists()
    assert not (tmp_path / "run").exists() and "==> Starting" not in result.stdout
    assert seconds < 15


def test_run_prod_with_the_shipped_clinic_file_names_all_four(tmp_path):
    result, _ = run(tmp_path, ROOT / "clinic.yml", "--prod")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert [line.split(":")[0].strip(" -") for line in lines] == [
        "clinic_phone",
        "booking_url",
        "after_hours_phone",
        "billing_phone",
    ]
    assert "make run` still starts as a demo" in result.stderr


def test_run_prod_with_the_clinics_own_values_goes_past_the_check(tmp_path):
    """Accepted: it goes on to the next step (here the model check, which stops it with
    no model). The complete start is tests/test_prod_profile.py's."""
    result, _ = run(tmp_path, clinic_with(tmp_path), "--prod")
    assert result.returncode == 1 and "make train" in result.stdout + result.stderr
    assert "will not start" not in result.stderr and "demo values" not in result.stdout + result.stderr
    assert (tmp_path / "state").exists()  # the profile had begun


def test_make_run_says_once_that_it_runs_as_a_demo_and_goes_on(tmp_path):
    result, _ = run(tmp_path, ROOT / "clinic.yml")
    lines = [line for line in result.stdout.splitlines() if "demo values" in line]
    assert len(lines) == 1, result.stdout
    for setting in (
        "clinic_phone (303-555-0142)",
        "after_hours_phone (303-555-0199)",
        "billing_phone (303-555-0150)",
        f"booking_url ({DEMO_LINK})",
    ):
        assert setting in lines[0]
    assert "make train" in result.stdout + result.stderr  # it went on, to the model check
    clean, _ = run(tmp_path, clinic_with(tmp_path))
    assert "demo" not in clean.stdout.lower()


def test_the_running_demo_said_so_once_at_start_up(bot):
    """The real embedded start (the session's bot, started by scripts/run.sh as
    `make run`): one line naming the demo settings, and it answers."""
    started = (bot.run_dir / "run.out").read_text()
    lines = [line for line in started.splitlines() if "Running as a demo" in line]
    assert len(lines) == 1 and "clinic_phone (303-555-0142)" in lines[0] and "booking_url" in lines[0], started
    assert bot.texts("demo-line", "what is an hsg")


# --- make check-content --------------------------------------------------------------------
def check_content(clinic):
    return subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-B", "scripts/check_content.py"],
        cwd=ROOT,
        env=dict(os.environ, HSG_CLINIC_SETTINGS=str(clinic)),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_content_warns_about_each_demo_value_and_still_passes(tmp_path):
    result = check_content(ROOT / "clinic.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("  - warning: ")]
    assert [line.split(":")[1].strip() for line in warnings] == [
        "clinic_phone",
        "booking_url",
        "after_hours_phone",
        "billing_phone",
    ]
    assert "make run-prod` refuses" in result.stdout and "All answers pass every check." in result.stdout
    clean = check_content(clinic_with(tmp_path))
    assert clean.returncode == 0 and "demo value" not in clean.stdout and "  - warning" not in clean.stdout, (
        clean.stdout
    )
