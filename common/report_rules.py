"""Which replies the editors' report keeps: the one rule used by the report itself
(editor/report.py) and by the bot, which sends the service only those replies
(components/content_nlg.py)."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

FALLBACK_RESPONSES = {"utter_fallback", "utter_default"}
OUT_OF_SCOPE_RESPONSES = {"utter_out_of_scope"}


def top_guess(latest: Dict[str, Any]) -> Dict[str, Any]:
    """The model's best intent other than nlu_fallback (name and confidence)."""
    ranking = [item for item in latest.get("intent_ranking") or [] if item.get("name") != "nlu_fallback"]
    return ranking[0] if ranking else (latest.get("intent") or {})


def report_kind(response: str, latest: Dict[str, Any], low_confidence: float,
                fallback_responses: Iterable[str] = FALLBACK_RESPONSES,
                out_of_scope_responses: Iterable[str] = OUT_OF_SCOPE_RESPONSES) -> Optional[str]:
    """"not understood", "out of scope" or "unsure" for a reply the report keeps, or None
    (a good answer, or a button's payload rather than a patient's words)."""
    text = (latest or {}).get("text") or ""
    if not text.strip() or text.startswith("/"):
        return None
    intent = latest.get("intent") or {}
    if response in fallback_responses or intent.get("name") == "nlu_fallback":
        return "not understood"
    if response in out_of_scope_responses:
        return "out of scope"
    confidence = top_guess(latest).get("confidence")
    if confidence is not None and confidence < low_confidence:
        return "unsure"
    return None
