"""Turns a stored response into the message Rasa sends, the way Rasa's own
TemplatedNaturalLanguageGenerator does (no Rasa imports; tests/test_content_service.py
compares the two on every answer). Only the service's POST /nlg uses it: the bot
renders its replies itself, with Rasa's generator (components/content_nlg.py).

- Variant: a variant for the output channel (e.g. "twilio") wins over the default one;
  conditional variants (`condition:` on slots) win over unconditional ones. The Spanish
  forms are the variants with the condition `language: es` (editor/store.py to_variants).
- Placeholders: {name} is filled from the slots and the action's arguments; a text
  with a placeholder that has no value is sent unchanged, as Rasa does.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any, Dict, List, Optional

TAG = re.compile(r"{([^\n{}]+?)}")
INTERPOLATED_KEYS = ("text", "image", "custom", "buttons", "attachment", "quick_replies")


def interpolate_text(text: str, values: Dict[str, Any]) -> str:
    try:
        result = TAG.sub(r"{0[\1]}", text).format(values)
        if "0[" in result:
            return text.format({})
        return result
    except (KeyError, IndexError, ValueError):
        return text


def interpolate(value: Any, values: Dict[str, Any]) -> Any:
    if isinstance(value, str):
        return interpolate_text(value, values)
    if isinstance(value, dict):
        return {key: interpolate(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, values) for item in value]
    return value


def _matches(variant: Dict[str, Any], slots: Dict[str, Any]) -> bool:
    for constraint in variant.get("condition") or []:
        have, want = slots.get(constraint["name"]), constraint["value"]
        if isinstance(have, str) and isinstance(want, str):
            if have.casefold() != want.casefold():
                return False
        elif have != want:
            return False
    return True


def choose(variants: List[Dict[str, Any]], channel: Optional[str], slots: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    conditional = [v for v in variants if v.get("condition") and _matches(v, slots)]
    default = [v for v in variants if not v.get("condition")]
    for group in (
        [v for v in conditional if v.get("channel") == channel],
        [v for v in default if v.get("channel") == channel],
        [v for v in conditional if v.get("channel") is None],
        [v for v in default if v.get("channel") is None],
    ):
        if group:
            return random.choice(group)
    return None


def render(
    responses: Dict[str, List[Dict[str, Any]]],
    name: str,
    channel: Optional[str],
    slots: Dict[str, Any],
    arguments: Dict[str, Any],
) -> Optional[Dict[str, Any]]:
    """The message for response `name`, or None when there is no such response."""
    if name not in responses:
        return None
    variant = choose(responses[name], channel, slots or {})
    if variant is None:
        return None
    message = copy.deepcopy(variant)
    values = dict(slots or {}, **(arguments or {}))
    if values:
        for key in INTERPOLATED_KEYS:
            if key in message:
                message[key] = interpolate(message[key], values)
    return message
