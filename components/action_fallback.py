"""A polite answer when the action server cannot be reached.

Rasa's default, when a custom action fails to connect, is to log an error and send
the patient nothing; when the action server hangs (stopped, deadlocked, swapping), Rasa
waits up to 300 s. Here, when the action server is down, unreachable or has not
answered within `HSG_ACTION_TIMEOUT` seconds (default 3), the bot
sends `utter_actions_unavailable` ("I can't work that out right now, please call"),
leaves any date form it was in, and says it once per message. Everything that needs
no action server (every FAQ answer, the urgent answer, small talk) keeps working.

`action_session_start` (actions/session.py: a new session keeps the language) is the
one custom action every new conversation runs, FAQ or not. It gets a shorter wait
(`HSG_SESSION_START_TIMEOUT`, default 1 s, at most the one above), and when the action
server does not answer it, Rasa's own ActionSessionStart runs instead, saying nothing:
the session starts as Rasa would start it, only the language is not carried.

`install()` wraps Rasa's RemoteAction.run (custom actions) and LoopAction.run (the
forms, whose validation is a custom action). It is called by
components/rasa_patches.apply(), which every process that loads the model runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, List

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, ActionSessionStart, RemoteAction, create_bot_utterance
from rasa.core.actions.loops import LoopAction
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME, REQUESTED_SLOT
from rasa.shared.core.events import ActiveLoop, BotUttered, Event, FollowupAction, SlotSet, UserUttered
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)
UNAVAILABLE = "utter_actions_unavailable"
UNREACHABLE = (aiohttp.ClientError, asyncio.TimeoutError)


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.5, float(os.environ.get(name, str(default))))
    except ValueError:
        return default


def action_timeout(action_name: str = "") -> float:
    """Seconds to wait for one custom action before answering politely (or, for the
    session start, before starting the session as Rasa would)."""
    wait = _seconds("HSG_ACTION_TIMEOUT", 3.0)
    if action_name == ACTION_SESSION_START_NAME:
        return min(wait, _seconds("HSG_SESSION_START_TIMEOUT", 1.0))
    return wait


class ActionServerTimeout(RasaException):
    """The action server took longer than action_timeout() (for example, it hangs)."""


def unreachable(error: BaseException) -> bool:
    """True when a custom action failed because the action server did not answer."""
    # Rasa 3.6.21 raises its RasaException inside `except aiohttp.ClientConnectionError`
    # (or `from` the error), so the network error is its context or cause: no need to read
    # Rasa's message text (tests/test_session.py and tests/test_operations.py: refused, hung).
    cause = error.__cause__ or error.__context__
    return isinstance(cause, UNREACHABLE)


async def polite_events(nlg: Any, tracker: Any, output_channel: Any) -> List[Event]:
    events: List[Event] = []
    already = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered) and (event.metadata or {}).get("utter_action") == UNAVAILABLE:
            already = True
    if not already:
        message = await nlg.generate(UNAVAILABLE, tracker, output_channel.name())
        if message:
            message["utter_action"] = UNAVAILABLE
            events.append(create_bot_utterance(message))
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    # Wait for the patient's next message (without this, the policies, seeing no rule
    # for this turn, would add the fallback answer).
    return events + [FollowupAction(ACTION_LISTEN_NAME)]


def _wrap(cls: Any, validation_raises: bool) -> None:
    original = cls.run
    if getattr(original, "hsg_polite", False):
        return

    async def call(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        if cls is not RemoteAction:
            return await original(self, output_channel, nlg, tracker, domain)
        try:
            wait = action_timeout(self.name())
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), wait)
        except asyncio.TimeoutError as error:
            raise ActionServerTimeout(f"The action server did not answer {self.name()} in time") from error

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        try:
            return await call(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException as error:
            if not unreachable(error) or (validation_raises and self.name().startswith("validate_")):
                raise  # a form's validation: the form itself answers politely
            if self.name() == ACTION_SESSION_START_NAME:
                logger.warning("The action server did not answer %s; Rasa's own session start is used", self.name())
                return await ActionSessionStart().run(output_channel, nlg, tracker, domain)
            logger.warning(
                "The action server did not answer for %s; the patient is asked to call the clinic", self.name()
            )
            return await polite_events(nlg, tracker, output_channel)

    run.hsg_polite = True  # type: ignore[attr-defined]
    cls.run = run


def install() -> None:
    _wrap(RemoteAction, validation_raises=True)
    _wrap(LoopAction, validation_raises=False)
