"""Which replies the editors' report keeps: the one rule used by the report itself
(editor/report.py) and by the bot, which sends the service only those replies
(components/content_nlg.py).

Besides the fallback, out-of-scope and unsure answers, the report keeps the guided
choice (the likely topics offered when the bot is unsure: what was offered) and the
patient's pick that follows it (a button's payload answered with a topic, or
"Something else"), linked by the slot `guided_offer` that action_answer_topics sets
({"message_id": the patient's message, "offered": [topic keys]})."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

FALLBACK_RESPONSES = {"utter_fallback", "utter_default"}
OUT_OF_SCOPE_RESPONSES = {"utter_out_of_scope"}
GUIDED_RESPONSES = {"utter_guided_one", "utter_clarify_topic", "utter_guided_three"}
# Said before a guided choice (a story without a question): the choice is what the report keeps.
NOT_KEPT = {"utter_story_ack"}
SOMETHING_ELSE = "something else"
# A typed yes or no that the guided choice's buttons answer ("yes" to "Is your question
# about A?" gets A's answer, "no" the topic list): a pick, as a tap would be.
TYPED_REPLIES = {"affirm", "deny"}
# The answers a picked topic gets when it is not a faq/<key> answer, and the topic list.
PICKED_BY_RESPONSE = {
    "utter_timing": "timing",
    "utter_device_confirmation": "device_confirmation",
    "utter_handoff": "human_handoff",
    "utter_topic_groups": SOMETHING_ELSE,
}


def top_guess(latest: Dict[str, Any]) -> Dict[str, Any]:
    """The model's best intent other than nlu_fallback (name and confidence)."""
    ranking = [item for item in latest.get("intent_ranking") or [] if item.get("name") != "nlu_fallback"]
    return ranking[0] if ranking else (latest.get("intent") or {})


def report_kind(
    response: str,
    latest: Dict[str, Any],
    low_confidence: float,
    fallback_responses: Iterable[str] = FALLBACK_RESPONSES,
    out_of_scope_responses: Iterable[str] = OUT_OF_SCOPE_RESPONSES,
) -> Optional[str]:
    """ "guided choice", "not understood", "out of scope" or "unsure" for a reply the
    report keeps, or None (a good answer, or a button's payload rather than a patient's
    words)."""
    text = (latest or {}).get("text") or ""
    if not text.strip() or text.startswith("/") or response in NOT_KEPT:
        return None
    if response in GUIDED_RESPONSES:
        return "guided choice"
    intent = latest.get("intent") or {}
    if response in fallback_responses or intent.get("name") == "nlu_fallback":
        return "not understood"
    if response in out_of_scope_responses:
        return "out of scope"
    confidence = top_guess(latest).get("confidence")
    if confidence is not None and confidence < low_confidence:
        return "unsure"
    return None


def offered_topics(arguments: Dict[str, Any]) -> List[str]:
    """The topic keys a guided choice offered, from its arguments (topic_a_key, ...)."""
    return [str(arguments[f"topic_{letter}_key"]) for letter in "abc" if (arguments or {}).get(f"topic_{letter}_key")]


def picked_topic(response: str, latest: Dict[str, Any], slots: Dict[str, Any]) -> Optional[str]:
    """The topic a patient picked after a guided choice: a button's payload (a tap, or a
    number by SMS), or a typed yes or no, answered with a topic (its key), or with the
    topic list ("something else"); None for anything else (a yes answered "anything
    else?"), or when no guided choice was offered."""
    text = (latest or {}).get("text") or ""
    offer = (slots or {}).get("guided_offer")
    intent = ((latest or {}).get("intent") or {}).get("name")
    typed_reply = intent in TYPED_REPLIES  # "yes" / "no" typed instead of a tap (actions.py ActionGuidedReply)
    if not (text.startswith("/") or typed_reply) or not isinstance(offer, dict) or not offer.get("message_id"):
        return None
    if response.startswith("utter_faq/"):
        return response.split("/", 1)[1]
    return PICKED_BY_RESPONSE.get(response)
