"""Clinic settings from clinic.yml (no Rasa imports)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = Path(os.environ.get("HSG_CLINIC_SETTINGS", ROOT / "clinic.yml"))

# Settings whose values may appear in patient-facing text as {placeholder}.
TEXT_PLACEHOLDERS = (
    "clinic_name",
    "clinic_phone",
    "booking_url",
    "emergency_number",
    "after_hours_phone",
    "billing_phone",
    "results_days",
    "pregnancy_test_rule",
)


@lru_cache(maxsize=1)
def load_settings(path: str = str(SETTINGS_FILE)) -> Dict[str, Any]:
    """Reads the clinic settings file and checks the keys the code relies on."""
    with open(path, encoding="utf-8") as handle:
        settings = yaml.safe_load(handle) or {}
    missing = [key for key in TEXT_PLACEHOLDERS + ("time_zone", "date_order", "window") if key not in settings]
    if missing:
        raise ValueError(f"{path} is missing settings: {', '.join(missing)}")
    for key in ("date_order", "date_order_es"):
        if settings.get(key, "MDY") not in ("MDY", "DMY"):
            raise ValueError(f"{path}: {key} must be MDY or DMY, not {settings[key]!r}")
    return settings


def in_language(values: Dict[str, str], settings: Dict[str, Any], language: str) -> Dict[str, str]:
    """`values` with the clinic's words in `language`: a setting `<key>_<language>`
    (results_days_es) replaces the words of `<key>`; numbers and phones are the same in
    every language."""
    return dict(
        values,
        **{key: str(settings[f"{key}_{language}"]) for key in TEXT_PLACEHOLDERS if f"{key}_{language}" in settings},
    )


def placeholders(settings: Dict[str, Any], language: str = "en") -> Dict[str, str]:
    """The values that fill {clinic_phone}, {last_cycle_day} and friends in the answers,
    in `language` (in_language)."""
    values = {key: str(settings[key]) for key in TEXT_PLACEHOLDERS}
    values.update({key: str(value) for key, value in settings["window"].items()})
    values["device_check_months"] = str(settings.get("device_check_months", 3))
    return in_language(values, settings, language)


PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(value: Any, values: Dict[str, str]) -> Any:
    """Fills the {placeholders} found in `values` in every string of a structure (a
    string, or lists and mappings of them); other braces are left as they are."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value


def topic_labels(path: Path = ROOT / "content" / "topic_labels.yml") -> Dict[str, Dict[str, str]]:
    """{topic key: {label, button}}: how "do you mean A or B?" names each topic. Read on
    every use (a small file), so an editor's change is live on the next message."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def topic_groups(path: Path = ROOT / "content" / "topic_groups.yml") -> list:
    """[{key, en, es, topics}]: the full topic list, grouped, in the order shown (what the
    guided choice's "Something else" opens). Read on every use, like topic_labels()."""
    with open(path, encoding="utf-8") as handle:
        return list((yaml.safe_load(handle) or {}).get("groups") or [])
