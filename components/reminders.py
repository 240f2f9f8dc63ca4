"""Text reminders in the SMS channel: the REMIND / CANCEL REMINDER keywords, the offer after
a date given by SMS, and the worker that sends what is due (the queue and the times:
common/reminders.py).

- **The offer.** After an SMS turn in which the bot gave a window (slot `hsg_window_start`)
  or a device check's due date (`device_check_date`), the channel adds one short text,
  "Reply REMIND for a text when your best days start" (content/answers/reminders/), when
  that reminder would still be ahead; the offer is stored (no number). A new date in a
  later turn replaces it, and moves a reminder already asked for; a turn that took the
  date away (the date questions started again, a late period...) cancels that kind's
  reminder, so none points at a date the conversation no longer holds.
- **The keywords** are whole messages, any case, accents or not, like STOP: REMIND (or
  RECORDAR, RECUÉRDAME...) makes the offers reminders, storing the number sealed;
  CANCEL REMINDER (CANCELAR RECORDATORIO) cancels them; STOP cancels everything.
- **The worker** runs in each Rasa server that serves SMS, as a thread (blocking calls:
  the database, Twilio's API): every POLL_SECONDS (HSG_REMINDER_POLL_SECONDS) it claims due reminders one by one
  (so with several servers each goes once), renders the text in the conversation's
  language from the bot's copy of the answers, and sends it with common/outbound.py.
  A passing failure (TemporarySendError) is tried again after each of
  `reminder_retry_minutes`, then counted failed; any other failure counts failed at once.
  A number that opted out meanwhile is never texted.
Nothing here logs a number or a text.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from datetime import date
from typing import Any, Callable, Dict, List, Optional

from common.reminders import (
    CANCELLED,
    DEVICE,
    FAILED,
    WINDOW,
    Claimed,
    ReminderPolicy,
    ReminderQueue,
    retry_time,
    seal,
    send_time,
    unseal,
)

logger = logging.getLogger(__name__)
POLL_SECONDS = 30.0
REMIND_WORDS = {"REMIND", "REMIND ME", "REMINDER", "RECORDAR", "RECUERDAME", "RECORDATORIO"}
CANCEL_WORDS = {
    "CANCEL REMINDER",
    "CANCEL REMINDERS",
    "CANCEL THE REMINDER",
    "CANCELAR RECORDATORIO",
    "CANCELAR EL RECORDATORIO",
    "CANCELAR RECORDATORIOS",
}
SPANISH_WORDS = {"RECORDAR", "RECUERDAME", "RECORDATORIO"} | {w for w in CANCEL_WORDS if w.startswith("CANCELAR")}
# The slot that carries each kind's date, and the answers of each kind.
DATE_SLOTS = {"hsg_window_start": WINDOW, "device_check_date": DEVICE}
OFFERS = {WINDOW: "utter_reminder_offer", DEVICE: "utter_reminder_offer_device"}
REMINDER_TEXTS = {WINDOW: "utter_reminder_window", DEVICE: "utter_reminder_device"}
SET, NONE, CANCELLED_REPLY = "utter_reminder_set", "utter_reminder_none", "utter_reminder_cancelled"


def keyword(text: str) -> str:
    """A whole message as a keyword: upper case, accents and end marks gone, one space."""
    folded = unicodedata.normalize("NFKD", text.strip().strip("¡!¿?.")).encode("ascii", "ignore").decode()
    return " ".join(folded.upper().split())


def reminder_word(text: str) -> Optional[str]:
    """Which reminder keyword a whole message is: "remind", "cancel", or None."""
    word = keyword(text)
    if word in REMIND_WORDS:
        return "remind"
    if word in CANCEL_WORDS:
        return "cancel"
    return None


def dates_given(events: List[Dict[str, Any]]) -> Dict[str, Optional[str]]:
    """{kind: ISO date or None} set by the bot after the patient's last message (tracker
    events as dicts): what this turn gave, or took away."""
    found: Dict[str, Optional[str]] = {}
    for event in reversed(events):
        if event.get("event") == "user":
            break
        kind = DATE_SLOTS.get(event.get("name", "")) if event.get("event") == "slot" else None
        if kind and kind not in found:
            found[kind] = event.get("value") if isinstance(event.get("value"), str) else None
    return found


class ReminderDesk:
    """What the SMS channel asks of the queue (blocking calls: run them off the event loop)."""

    def __init__(self, queue: ReminderQueue, secret: str, policy: ReminderPolicy) -> None:
        self.queue = queue
        self.secret = secret
        self.policy = policy

    def after_turn(self, key: str, given: Dict[str, Optional[str]], language: str, now: float) -> List[str]:
        """Records this turn's dates; the offers to add to its replies."""
        offers = []
        for kind, value in given.items():
            try:
                day = date.fromisoformat(value) if value else None
            except ValueError:
                day = None
            at = send_time(kind, day, self.policy) if day else None
            if at is None or at <= now:
                self.queue.withdraw(key, kind, now)
                continue
            self.queue.offer(key, kind, day, language, at, now)  # type: ignore[arg-type]
            offers.append(OFFERS[kind])
        return offers

    def reply(self, key: str, number: str, word: str, language: Optional[str], now: float) -> str:
        """The answer to REMIND or CANCEL REMINDER (its name)."""
        if word == "cancel":
            self.queue.cancel(key, now)
            return CANCELLED_REPLY
        waiting = self.queue.activate(key, seal(self.secret, number), language, now)
        return SET if waiting else NONE

    def stop(self, key: str, now: float) -> int:
        return self.queue.cancel(key, now, stop=True)


Send = Callable[[str, str], str]  # (E.164 number, text) -> MessageSid; raises on failure
Render = Callable[[str, str], str]  # (answer name, language) -> text


class ReminderWorker:
    """Sends due reminders (see the module's docstring). `run_once(now)` does one round and
    is what the tests drive with a frozen clock; `start()` runs rounds in a thread."""

    def __init__(
        self,
        queue: ReminderQueue,
        opted_out: Callable[[str], bool],
        send: Send,
        render: Render,
        secret: str,
        policy: ReminderPolicy,
        clock: Callable[[], float] = time.time,
        on_sent: Callable[[str], None] = lambda sid: None,
    ) -> None:
        self.queue, self.opted_out, self.send, self.render = queue, opted_out, send, render
        self.secret, self.policy, self.clock, self.on_sent = secret, policy, clock, on_sent
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._failing = False

    def run_once(self, now: Optional[float] = None) -> int:
        """Sends every reminder due at `now` (default the clock); how many were handled."""
        handled = 0
        while True:
            moment = self.clock() if now is None else now
            claimed = self.queue.claim(moment)
            if claimed is None:
                return handled
            self.deliver(claimed, moment)
            handled += 1

    def deliver(self, row: Claimed, now: float) -> None:
        from common.outbound import TemporarySendError

        if self.opted_out(row.key):
            self.queue.give_up(row.id, CANCELLED, now)
            return
        try:
            body = self.render(REMINDER_TEXTS[row.kind], row.language)
            sid = self.send(unseal(self.secret, row.number), body)
        except TemporarySendError:
            at = retry_time(row.tries, now, self.policy)
            if at is None:
                logger.warning("A reminder failed after %d tries; counted as failed", row.tries)
                self.queue.give_up(row.id, FAILED, now)
            else:
                logger.info("A reminder was not sent (a passing failure); trying again later")
                self.queue.retry(row.id, at, now)
            return
        except Exception as error:  # a refused number, bad settings, an undecryptable number...
            logger.warning("A reminder failed for good (%s); counted as failed", type(error).__name__)
            self.queue.give_up(row.id, FAILED, now)
            return
        self.queue.sent(row.id, sid, now)
        try:
            self.on_sent(sid)  # the SMS store's record of sent texts, which the status callback updates
        except Exception as error:
            logger.warning("A sent reminder was not recorded for its status (%s)", type(error).__name__)
        logger.info("Sent a %s reminder (%s)", row.kind, sid)

    def _loop(self, every: float) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                if self._failing:
                    logger.info("Reminders: the queue can be read again")
                self._failing = False
            except Exception as error:  # the database away: try again next round
                if not self._failing:
                    logger.warning("Reminders: the queue could not be read (%s); trying again", type(error).__name__)
                self._failing = True
            self._stop.wait(every)

    def start(self, every: float = POLL_SECONDS) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, args=(every,), name="sms-reminders", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
