"""Simulated patients for `make load` (run by scripts/load.py with locust).

LOAD_MIX=hsg (default): each patient asks FAQ questions, works out a timing window
(a two-message conversation), or sends bad input, pausing 1 to 3 s between
messages like a person reading the answer. After 3 to 8 messages the patient leaves
and a new one starts a new conversation, as visits to a clinic's site do. A reply without the expected words, or a
bad request that is not refused with 400/413, counts as an error.
LOAD_MIX=starter: the same pacing with the messages of Rasa's own starter bot
(`rasa init`), the reference floor.
"""

from __future__ import annotations

import os
import random
import uuid

from locust import HttpUser, between, task

URL = "/webhooks/rest/webhook"
FAQ = [
    ("What is an HSG?", "X-ray"),
    ("does it hurt?", "discomfort"),
    ("how long does it take?", "minutes"),
    ("what is the balloon for", "balloon"),
    ("is the radiation dangerous", "radiation"),
    ("what should I expect afterwards", ""),
    ("can the hsg help me get pregnant", ""),
    ("are you a bot?", "automated"),
]
STARTER = [("hello", ""), ("I am sad", ""), ("yes", ""), ("great", ""), ("bye", "")]
BAD = [
    (b"{not json", 400),
    (b'{"sender": "x", "message": ""}', 400),
    (b'{"sender": "x"}', 400),
    (('{"sender": "x", "message": "' + "a" * 3000 + '"}').encode(), 413),
]


class Patient(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.mix = os.environ.get("LOAD_MIX", "hsg")
        self.new_visit()

    def new_visit(self) -> None:
        self.sender = "load-" + uuid.uuid4().hex
        self.left = random.randint(3, 8)

    def say(self, message: str, expected: str = "", name: str = "message") -> None:
        self.left -= 1
        if self.left < 0:
            self.new_visit()
        with self.client.post(
            URL, json={"sender": self.sender, "message": message}, name=name, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            try:
                text = " ".join(m.get("text") or "" for m in response.json())
            except ValueError:
                response.failure("reply is not JSON")
                return
            if not text or expected.lower() not in text.lower():
                response.failure(f"reply lacks {expected!r}")

    @task(6)
    def question(self) -> None:
        if self.mix == "starter":
            self.say(*random.choice(STARTER))
        else:
            self.say(*random.choice(FAQ), name="FAQ")

    @task(2)
    def timing_window(self) -> None:
        if self.mix == "starter":
            self.say(*random.choice(STARTER))
            return
        self.new_visit()  # a fresh conversation for the form
        self.say("my period started Nov 20, when can I have the HSG?", "November 20", name="timing: period")
        self.say("it stopped on the 24th", "November 27", name="timing: bleeding stopped")

    @task(1)
    def bad_input(self) -> None:
        if self.mix == "starter":
            self.say(*random.choice(STARTER))
            return
        body, status = random.choice(BAD)
        with self.client.post(
            URL, data=body, headers={"Content-Type": "application/json"}, name="bad input", catch_response=True
        ) as response:
            if response.status_code == status:
                response.success()
            else:
                response.failure(f"bad input got HTTP {response.status_code}, not {status}")
