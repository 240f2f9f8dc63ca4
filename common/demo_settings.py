"""Demo settings in the clinic file: values that let the assistant be tried, and that must
never reach a patient.

- A fictional phone number: the NANP keeps 555-0100 to 555-0199 for fiction, so any
  setting whose name ends in `_phone` and holds such a number, or any setting whose text
  contains one ("Call us at (303) 555-0142"), is a demo value.
- A value marked as a demo in the clinic file's own `demo_values:` mapping (setting:
  value), such as the example `booking_url`. The mark sits beside the value a clinic
  changes, so putting in the clinic's own link clears it with no second edit; a clinic
  whose real value is the marked one deletes the mark on purpose.

`scripts/run.sh --prod` refuses to start while any is present (`python -m
common.demo_settings --prod`), `make run` names them in one line at start-up, and
`make check-content` lists them as warnings. No Rasa imports; only yaml and re.

The phone numbers are read with a regular expression: the `phonenumbers` library is not
in the project's environment, and only this one reserved block is looked for.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

# 555-01xx, with or without an area code and a leading 1 or +1, written with dashes, dots,
# spaces or brackets, or as one run of digits; not inside a longer number.
FICTIONAL_PHONE = re.compile(r"(?<![\d+])(?:\+?1[\s.-]*)?(?:\(?\d{3}\)?[\s.-]*)?555[\s.-]*01\d\d(?!\d)")
MARKS = "demo_values"


@dataclass(frozen=True)
class DemoSetting:
    """One demo value: the setting's name (dotted for a nested one: web.calendar_note),
    the value found, why it is a demo value and what to do."""

    name: str
    value: str
    reason: str
    fix: str


def fictional_phone(value: str, whole: bool = False) -> str:
    """The fictional 555-01xx number in `value`, or "". With whole=True (a `_phone`
    setting) the value is one phone number, however it is punctuated: its digits are
    a 555-01xx number with or without the area code and a leading 1 (or it contains
    one, as any text may: "303-555-0142 ext. 2")."""
    if whole:
        digits = re.sub(r"\D", "", value)
        if len(digits) in (7, 10, 11) and digits[-7:-2] == "55501" and (len(digits) != 11 or digits[0] == "1"):
            return value.strip()
    match = FICTIONAL_PHONE.search(value)
    return match.group(0).strip() if match else ""


def _leaves(value: Any, name: str = "") -> Iterator[Tuple[str, Any]]:
    """(dotted name, value) of every setting that is not a mapping or a list."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not name and key == MARKS:
                continue
            yield from _leaves(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _leaves(item, f"{name}[{number}]")
    elif value is not None:
        yield name, value


def _marks(settings: Dict[str, Any]) -> Dict[str, str]:
    marks = settings.get(MARKS) or {}
    if not isinstance(marks, dict):
        raise ValueError(f"{MARKS} must map a setting's name to its demo value, not {type(marks).__name__}")
    return {str(name): str(value) for name, value in marks.items() if value is not None}


def demo_settings(settings: Dict[str, Any]) -> List[DemoSetting]:
    """Every demo value of a clinic settings mapping (clinic.yml as read), in file order."""
    marks = _marks(settings)
    found = []
    for name, value in _leaves(settings):
        text = str(value)
        if name in marks and text == marks[name]:
            found.append(
                DemoSetting(
                    name,
                    text,
                    "still the example value marked in demo_values",
                    f"put the clinic's own value in {name} (if the example is really the clinic's, "
                    f"delete {name} from demo_values)",
                )
            )
            continue
        phone = fictional_phone(text, whole=name.endswith("_phone"))
        if phone:
            found.append(
                DemoSetting(name, phone, "a fictional 555-01xx phone number", f"put the clinic's real number in {name}")
            )
    return found


def startup_line(found: List[DemoSetting]) -> str:
    """The one line `make run` prints at start-up while demo values are in use ("" if none)."""
    if not found:
        return ""
    names = ", ".join(f"{item.name} ({item.value})" for item in found)
    return f"==> Running as a demo: these settings hold demo values, which `make run-prod` refuses: {names}"


def refusal(found: List[DemoSetting], path: str) -> str:
    """What `make run-prod` prints when it refuses to start: each setting and what to do."""
    lines = [
        f"The production profile will not start: {path} still holds demo values, which a patient "
        "would be told to call or open:"
    ]
    lines += [f"  - {item.name}: {item.value} is {item.reason}; {item.fix}." for item in found]
    lines.append(
        f"Change them in {path}, check with `make check-content`, then run `make run-prod` again. "
        "(`make run` still starts as a demo.)"
    )
    return "\n".join(lines)


def settings_path() -> str:
    """The clinic file every process reads (HSG_CLINIC_SETTINGS, else clinic.yml), as a
    person would type it: relative to the checkout when inside it."""
    from common.settings import ROOT, SETTINGS_FILE

    path = Path(SETTINGS_FILE).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: List[str]) -> int:
    """--prod: print the refusal to stderr and exit 1 while any demo value is present;
    otherwise print the start-up line (if any) and exit 0."""
    from common.settings import load_settings

    found = demo_settings(load_settings())
    if "--prod" in argv:
        if found:
            print(refusal(found, settings_path()), file=sys.stderr)
            return 1
        return 0
    line = startup_line(found)
    if line:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
