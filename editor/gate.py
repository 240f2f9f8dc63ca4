"""One gate for every path an answer takes to the bot (no Rasa imports).

The editor checks an answer before saving it (editor/staff_answers.py), `content_sync
import` and the first start of PostgreSQL check the files' answers before importing
them (editor/content_sync.py, editor/store.py). This gate covers what is left: an
answer file edited on disk (or pulled from git) while the service runs. Before the
service hands the answers to the bot (`ContentService.bundle`), each answer that changed
since it last passed is checked again (editor/checks.py `check_answer`, both languages);
one that fails is replaced by its last good version (the one served before, else the
newest version in its history that passes), and the failure is logged once, with the
answer's name and the checks' names only, never its text. With no good version at all,
the answer is left out and named in `withheld`: the bot then keeps its own copy
(components/content_nlg.py). The editor's page lists the failures (`failures`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional

from editor.signoff import is_live
from editor.store import ContentStore, StoreError

logger = logging.getLogger("hsg.content")
Checker = Callable[[str, Dict[str, Any]], List[str]]


class Gate:
    """The last good version of each answer, and the answers that fail now."""

    def __init__(self, check: Checker) -> None:
        self.check = check
        self._good: Dict[str, Dict[str, Any]] = {}
        self._failing: Dict[str, Dict[str, Any]] = {}
        self._lock = threading.Lock()

    def admit(self, store: ContentStore, answers: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
        """The answers the bot may have: each as it is when it passes its checks, else
        its last good version, else left out."""
        with self._lock:
            out = {}
            for name, answer in answers.items():
                if self._good.get(name) == answer:
                    out[name] = answer
                    continue
                failing = self.check(name, answer)
                if not failing:
                    if self._failing.pop(name, None) is not None:
                        logger.info("%s passes its checks again and is live", name)
                    self._good[name] = out[name] = answer
                    continue
                good = self._good.get(name) or self._from_history(store, name)
                self._note(name, failing, good)
                if good is not None:
                    self._good[name] = out[name] = good
            for name in list(self._failing):
                if name not in answers:
                    del self._failing[name]
            return out

    def _from_history(self, store: ContentStore, name: str) -> Optional[Dict[str, Any]]:
        """The newest version in the answer's history that was live and passes its checks."""
        try:
            entries = store.history(name)
        except StoreError:
            return None
        for entry in reversed(entries):
            if is_live(entry) and not entry.get("unsaved") and not self.check(name, entry["answer"]):
                return entry["answer"]
        return None

    def _note(self, name: str, failing: List[str], good: Optional[Dict[str, Any]]) -> None:
        known = self._failing.get(name)
        self._failing[name] = {"answer": name, "checks": failing, "serving": "last good" if good else None}
        if known and known["checks"] == failing:
            return
        logger.warning(
            "%s fails its checks (%s): %s",
            name,
            ", ".join(failing),
            "its last good version stays live" if good else "the bot keeps its own copy",
        )

    def failures(self) -> List[Dict[str, Any]]:
        """[{"answer", "checks", "serving"}] of each answer that fails now."""
        with self._lock:
            return [dict(entry) for _, entry in sorted(self._failing.items())]

    def withheld(self, answers: Dict[str, Dict[str, Any]], admitted: Dict[str, Dict[str, Any]]) -> List[str]:
        return sorted(name for name in answers if name not in admitted)
