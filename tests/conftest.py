"""Shared fixtures. Nothing is started or loaded at import time.

The `bot` fixture starts the real servers (scripts/run.sh, the same script as
`make run`) on spare ports with a test token and a frozen "today", once per test
session, and stops them afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEST_TOKEN = "test-token-not-secret"
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_ACCOUNT = "ACtest00000000000000000000000000"
STAFF_TOKEN = "test-staff-token-not-secret"  # HSG_STAFF_TOKEN of the test bot: the staff texting API
CLINIC_NUMBER = "+13035550142"  # the test clinic's Twilio number (texts come from it)
SMS_HASH_KEY = "test-sms-hash-key"
EDITOR = ("test.editor", "test-editor-password")  # created in the test bot's own accounts file
TODAY = date(2026, 11, 27)  # the frozen "today" of the running test bot


@pytest.fixture(scope="session")
def settings() -> Dict[str, Any]:
    from common.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The built domain (domain.yml + rendered responses), as the actions see it."""
    return yaml.safe_load((ROOT / "build" / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture()
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture()
def make_tracker(domain):
    """Builds a rasa_sdk Tracker for one user message with the given slots."""
    from rasa_sdk import Tracker

    def _make(
        text: str,
        intent: str = "inform",
        slots: Dict[str, Any] = None,
        entities: List[Dict[str, Any]] = None,
        active_loop: str = None,
    ) -> Tracker:
        all_slots = {name: None for name in domain["slots"]}
        all_slots.update(slots or {})
        latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
        return Tracker(
            "test-sender",
            all_slots,
            latest,
            [],
            False,
            None,
            {"name": active_loop} if active_loop else {},
            "action_listen",
        )

    return _make


class TwilioMock:
    """scripts/twilio_mock.py running on a thread: what was sent, failures to give, callbacks."""

    def __init__(self, url: str) -> None:
        self.url = url

    def messages(self) -> List[Dict[str, Any]]:
        return requests.get(f"{self.url}/_messages", timeout=10).json()["messages"]

    def fail(self, count: int, status: int = 500, code: int = 20500) -> None:
        requests.post(f"{self.url}/_fail", json={"count": count, "status": status, "code": code}, timeout=10)

    def report_status(self, sid: str, status: str, error_code: Any = None) -> int:
        """Makes the mock call the message's status callback; the callback's HTTP status."""
        answer = requests.post(
            f"{self.url}/_status", json={"sid": sid, "status": status, "error_code": error_code}, timeout=40
        )
        return answer.json()["callback_status"]

    def reset(self) -> None:
        requests.post(f"{self.url}/_reset", json={}, timeout=10)


@pytest.fixture(scope="session")
def twilio_mock() -> Iterator[TwilioMock]:
    """The local Twilio Messages API (scripts/twilio_mock.py) on a free port, for the session."""
    import threading

    from scripts.servers import free_ports
    from scripts.twilio_mock import serve

    server = serve(free_ports(1)[0], TWILIO_ACCOUNT, TWILIO_TOKEN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield TwilioMock(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


class Bot:
    """A running assistant: REST chat and the token-protected HTTP API."""

    def __init__(self, url: str, token: str, run_dir: Path, web_url: str = "", running: Any = None) -> None:
        self.url = url
        self.web_url = web_url
        self.token = token
        self.run_dir = run_dir
        self.running = running
        self.content_url = running.content_url if running else ""
        self.env = running.env if running else {}

    def logs(self) -> str:
        """Everything both servers have logged so far."""
        return "".join(
            (self.run_dir / name).read_text(errors="replace")
            for name in ("rasa.log", "actions.log", "content.log")
            if (self.run_dir / name).exists()
        )

    def send(self, sender: str, message: Any, **kwargs) -> requests.Response:
        return requests.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60, **kwargs
        )

    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        response = self.send(sender, message)
        assert response.status_code == 200, response.text
        return response.json()

    def texts(self, sender: str, message: str) -> List[str]:
        return [m["text"] for m in self.say(sender, message) if "text" in m]

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> Dict[str, Any]:
        response = requests.post(
            f"{self.url}/model/parse", params={"token": self.token}, json={"text": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def bot(tmp_path_factory, twilio_mock) -> Bot:
    """Starts the trained assistant and its action server once for the session; its texts
    go to the Twilio mock."""
    from scripts.servers import free_ports, start_bot

    if not (ROOT / "models" / "hsg.tar.gz").exists():
        pytest.fail("No trained model: run the tests with `make test`, which trains first.")
    try:
        run_dir = tmp_path_factory.mktemp("bot")
        rasa_port, actions_port, web_port, content_port = free_ports(4)
        running = start_bot(
            run_dir,
            rasa_port,
            actions_port,
            TEST_TOKEN,
            web_port=web_port,
            content_port=content_port,
            extra_env={
                "HSG_TODAY": TODAY.isoformat(),
                "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                "HSG_SMS_HASH_KEY": SMS_HASH_KEY,
                "HSG_SMS_DB": str(run_dir / "sms.sqlite3"),
                "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT,
                "TWILIO_FROM_NUMBER": CLINIC_NUMBER,
                "TWILIO_API_BASE": twilio_mock.url,
                "HSG_STAFF_TOKEN": STAFF_TOKEN,
                "TWILIO_STATUS_CALLBACK_URL": f"http://127.0.0.1:{rasa_port}/webhooks/twilio/status",
                # the embedded default: no proxy trusted, whatever this shell says
                "HSG_TRUSTED_PROXIES": "",
                "HSG_REMINDER_POLL_SECONDS": "1",  # due reminders go out within a second (tests)
            },
        )
    except RuntimeError as error:
        pytest.fail(str(error))
    from editor.accounts import set_password

    set_password(EDITOR[0], EDITOR[1], Path(running.env["HSG_EDITORS_FILE"]))
    yield Bot(running.url, TEST_TOKEN, running.run_dir, running.web_url, running)
    running.stop()


def load_nlu_examples(path: Path) -> Dict[str, List[str]]:
    """{intent or faq/<key>: [examples]} from a Rasa NLU YAML file."""
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples: Dict[str, List[str]] = {}
    for block in content.get("nlu", []):
        if "intent" in block:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            examples.setdefault(block["intent"], []).extend(lines)
    return examples


def set_texts(path: Path) -> List[str]:
    """Every message of a test set, whatever its format (NLU, patients' messages, red flags)."""
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "messages" in content:
        return [m["text"] for m in content["messages"]]
    if "urgent" in content or "not_urgent" in content:
        return [m["text"] for key in ("urgent", "not_urgent") for m in content.get(key) or []]
    return [line for lines in load_nlu_examples(path).values() for line in lines]


def topic_key(parse_result: Dict[str, Any]) -> str:
    """The product.md topic key of a /model/parse result: the intent, or faq/<key>'s key."""
    intent = (parse_result.get("intent") or {}).get("name")
    if intent == "timing" and parse_result.get("late_period"):
        return "pregnancy_test"  # the late-period answer (components/late_period.py)
    if intent == "faq":
        selected = parse_result["response_selector"]["faq"]["response"]
        return selected["intent_response_key"].split("/", 1)[1]
    return intent


@contextlib.contextmanager
def local_services(prefix: str, pg_port: int, redis_port: int) -> Iterator[Dict[str, Any]]:
    """A PostgreSQL and a Redis of the test's own (scripts/services.sh, on their own ports
    and folder, not under pytest's private tmp folder: the postgres user must reach it).
    Yields {"env": the settings given to services.sh, "settings": the HSG_PG_* and
    HSG_REDIS_* it prints, "folder": their data}; stops them and deletes the folder after."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    env = dict(
        os.environ,
        HSG_SERVICES_DIR=str(folder),
        HSG_PG_PORT=str(pg_port),
        HSG_REDIS_PORT=str(redis_port),
        HSG_PG_PASSWORD="test-pg-" + uuid.uuid4().hex[:8],
    )
    command = ["bash", str(ROOT / "scripts" / "services.sh")]
    try:
        subprocess.run(command + ["start"], env=env, cwd=ROOT, check=True, timeout=600, capture_output=True)
        settings = dict(
            line.split("=", 1)
            for line in subprocess.run(
                command + ["env"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout.splitlines()
        )
        yield {"env": env, "settings": settings, "folder": folder}
    finally:
        subprocess.run(command + ["stop"], env=env, cwd=ROOT, timeout=120, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
