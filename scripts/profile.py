"""`make profile`: where the Rasa process's CPU goes, as py-spy flame graphs.

Starts the assistant (scripts/servers.start_bot, on ports no test uses), drives it over
REST (one kept-open connection per conversation), and records the Rasa server with
py-spy (installed into .venv-load by `make profile`) while

- faq:  8 conversations at once ask FAQ questions without pausing (16 per
        conversation, then a new conversation), and
- date: 4 conversations at once each work out a timing window: the period's first
        day ("my period started Nov 20, when can I have the HSG?"), then the day the
        bleeding stopped ("it stopped on the 24th"), which gives the window.

Writes docs/perf/<scenario>-<label>.svg (py-spy's flame graph; open it in a browser,
click to zoom) and docs/perf/<scenario>-<label>.json (the share of the Rasa
process's samples in each part of a turn, and the top functions), then prints the
shares next to those of the other runs saved there (docs/perf/README.md explains them).

    .venv/bin/python scripts/profile.py                  # this checkout, label "after"
    .venv/bin/python scripts/profile.py --root /tmp/hsg-before --label before
    PROFILE_SECONDS=30 make profile

--root runs another checkout of the project (a git worktree of an older commit, with
its model trained there) with that checkout's own scripts/servers.py and run.sh; the
files are still written here. The numbers are samples of one process on a machine
that may be shared: compare shares within a run, and runs made one after the other.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import requests

ROOT = Path(__file__).resolve().parent.parent
PY_SPY = ROOT / ".venv-load" / "bin" / "py-spy"
OUT = ROOT / "docs" / "perf"
RAW = Path(tempfile.gettempdir()) / "hsg-profile"  # py-spy's raw stacks, for a closer look
CHECKOUTS = [str(ROOT) + "/"]  # paths left out of frame names (plus --root's)
TODAY = "2026-11-27"  # the date conversation's replies are written for this day (as in make load)
FAQ_QUESTIONS = [
    "what is an hsg",
    "does it hurt",
    "how long does it take",
    "what is the balloon for",
    "can i eat before the exam",
    "when do i get results",
    "is the radiation safe",
    "what is the dye",
]
DATE_TURNS = [
    ("my period started Nov 20, when can I have the HSG?", "November 20"),
    ("it stopped on the 24th", "November 27"),
]

# Parts of a turn, each matched against every frame of a sample ("function (file)"; a
# pattern is the frame's start, or anywhere in it with a leading "*");
# a sample counts once for each part any of its frames matches (shares are inclusive and
# overlap: "featurizing past states" is part of "policy predictions").
PARTS: List[Tuple[str, Tuple[str, ...]]] = [
    (
        "tracker store: load the conversation",
        (
            "retrieve (rasa/core/tracker_store.py",
            "retrieve_full_tracker (rasa/core/tracker_store.py",
            "fetch_tracker_and_update_session (rasa/core/processor.py",
        ),
    ),
    ("  of which: SQL query and rows", ("*sqlalchemy/", "*sqlite3/")),
    (
        "  of which: rebuilding the tracker from events",
        (
            "from_dict (rasa/shared/core/trackers.py",
            "from_events (rasa/shared/core/trackers.py",
            "init_tracker (rasa/core/tracker_store.py",
            "*recreate_from_dialogue",
        ),
    ),
    ("tracker store: save", ("save (rasa/core/tracker_store.py", "save_tracker (rasa/core/processor.py")),
    ("event type lookup (all_subclasses)", ("all_subclasses (rasa/shared/utils/common.py",)),
    ("JSON-schema validation", ("*jsonschema/",)),
    (
        "policy predictions",
        (
            "predict_next_with_tracker_if_should (rasa/core/processor.py",
            "_predict_next_with_tracker (rasa/core/processor.py",
            "predict_next_action (rasa/core/processor.py",
        ),
    ),
    (
        "  of which: featurizing past states",
        (
            "past_states (rasa/shared/core/trackers.py",
            "past_states_for_hashing (rasa/shared/core/trackers.py",
            "prediction_states (rasa/core/featurizers",
            "_prediction_states (rasa/core/policies/memoization.py",
            "_featurize_for_prediction",
            "applied_events (rasa/shared/core/trackers.py",
        ),
    ),
    ("understanding (NLU pipeline)", ("parse_message (rasa/core/processor.py",)),
    ("  of which: topic model", ("*components/topic_classifier.py", "*components/topic_model.py")),
    ("  of which: spaCy", ("*spacy/",)),
    ("answer rendering (NLG)", ("*rasa/core/nlg/", "*components/content_nlg.py")),
    (
        "action server calls",
        ("run (rasa/core/actions/action.py", "*rasa/core/actions/forms.py", "*rasa/core/actions/loops.py"),
    ),
    ("event (de)serialisation", ("from_parameters (rasa/shared/core/events.py", "as_dict (rasa/shared/core/events.py")),
    ("deep copies", ("deepcopy (copy.py",)),
    ("logging", ("*logging/__init__.py", "*structlog/")),
    ("TensorFlow", ("*tensorflow/",)),
]


def load_servers(root: Path):
    """scripts/servers.py of the checkout to run (its run.sh and its way of starting)."""
    spec = importlib.util.spec_from_file_location(f"servers_{abs(hash(str(root)))}", root / "scripts" / "servers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class Driver:
    """Conversations at once, each in its own thread and HTTP session, until stopped."""

    def __init__(self, webhook: str, scenario: str, clients: int) -> None:
        self.webhook, self.scenario, self.clients = webhook, scenario, clients
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: List[float] = []
        self.errors = 0
        self.failures: List[str] = []
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]

    def say(self, session: requests.Session, sender: str, message: str, expected: str = "") -> None:
        started = time.perf_counter()
        try:
            response = session.post(self.webhook, json={"sender": sender, "message": message}, timeout=60)
            reply = (
                " ".join(m.get("text") or "" for m in response.json())
                if response.ok
                else f"HTTP {response.status_code}"
            )
        except (requests.RequestException, ValueError) as error:
            reply = repr(error)
        failed = not reply or expected.lower() not in reply.lower()
        with self.lock:
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.errors += failed
            if failed and len(self.failures) < 3:
                self.failures.append(f"{message!r} -> {reply[:200]!r}")

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            sender = f"profile-{uuid.uuid4().hex}"
            if self.scenario == "faq":
                for question in FAQ_QUESTIONS * 2:
                    if self.stop.is_set():
                        break
                    self.say(session, sender, question)
            else:
                for message, expected in DATE_TURNS:
                    self.say(session, sender, message, expected)

    def __enter__(self) -> Driver:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *args) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=90)

    def take(self) -> Tuple[List[float], int]:
        with self.lock:
            values, errors = self.latencies, self.errors
            self.latencies, self.errors = [], 0
        return values, errors


def record(pid: int, seconds: int, svg: Path, raw: Path, rate: int) -> None:
    """py-spy's flame graph, then its raw (collapsed) stacks for as long again under the
    same load: one py-spy at a time, so each can pause the process for an exact stack."""
    for fmt, path in (("flamegraph", svg), ("raw", raw)):
        done = subprocess.run(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                str(rate),
                "--format",
                fmt,
                "-o",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=seconds + 120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"py-spy failed: {done.stderr.decode(errors='replace')[-2000:]}")


def read_raw(path: Path) -> List[Tuple[List[str], int]]:
    """Collapsed stacks: 'frame;frame;...;frame count' per line, the root first."""
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    """'name (path/to/site-packages/rasa/x.py:12)' -> 'name (rasa/x.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.10/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    for root in CHECKOUTS:
        where = where.replace(root, "")
    return f"{name} ({where})" if where else name


def matches(frame: str, patterns: Tuple[str, ...]) -> bool:
    return any(frame.startswith(p) if p[0] != "*" else p[1:] in frame for p in patterns)


def summarise(stacks: List[Tuple[List[str], int]]) -> Dict[str, object]:
    total = sum(count for _, count in stacks) or 1
    parts: Counter = Counter()
    inclusive: Counter = Counter()
    own: Counter = Counter()
    for frames, count in stacks:
        frames = [short(frame) for frame in frames]
        parent = False
        for label, patterns in PARTS:
            hit = any(matches(frame, patterns) for frame in frames)
            if label.startswith("  of which"):
                hit = hit and parent  # only inside the part above it
            else:
                parent = hit
            if hit:
                parts[label] += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    return {
        "samples": total,
        "parts": {label: round(100 * parts[label] / total, 1) for label, _ in PARTS},
        "top_inclusive": [(frame, round(100 * n / total, 1)) for frame, n in inclusive.most_common(60)],
        "top_self": [(frame, round(100 * n / total, 1)) for frame, n in own.most_common(30)],
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(bot, scenario: str, label: str, seconds: int, rate: int, clients: int) -> Dict[str, object]:
    pid = bot.server_pids()["rasa"][0]
    webhook = f"{bot.url}/webhooks/rest/webhook"
    with Driver(webhook, scenario, clients) as driver:
        time.sleep(5)  # warm up: first messages, connections, caches
        driver.take()
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        svg, raw = OUT / f"{scenario}-{label}.svg", RAW / f"{scenario}-{label}.txt"
        print(
            f"==> {scenario} ({label}): {clients} conversations at once, recording Rasa (pid {pid}) "
            f"for 2 x {seconds} s",
            flush=True,
        )
        record(pid, seconds, svg, raw, rate)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
        latencies, errors = driver.take()
    summary = summarise(read_raw(raw))
    ordered = sorted(latencies) or [0.0]
    summary.update(
        {
            "scenario": scenario,
            "label": label,
            "seconds": round(elapsed, 1),
            "clients": clients,
            "messages": len(latencies),
            "errors": errors,
            "messages_per_second": round(len(latencies) / elapsed, 1),
            "rasa_cpu_ms_per_message": round(1000 * cpu / max(1, len(latencies)), 1),
            "failures": driver.failures,
            "p50_ms": round(ordered[len(ordered) // 2]),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))]),
            "date": time.strftime("%Y-%m-%d %H:%M"),
        }
    )
    (OUT / f"{scenario}-{label}.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def show(summary: Dict[str, object]) -> None:
    """The shares of this run next to those of the other runs of the scenario in docs/perf/
    (before, then any others), each with its message rate and Rasa CPU per message."""
    scenario, label = summary["scenario"], summary["label"]
    others = [
        json.loads(path.read_text())
        for path in sorted(OUT.glob(f"{scenario}-*.json"))
        if path.stem != f"{scenario}-{label}"
    ]
    others.sort(key=lambda other: other["label"] != "before")
    print(
        f"\n{scenario} ({label}): {summary['messages']} messages in {summary['seconds']} s "
        f"({summary['messages_per_second']} msg/s, p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, "
        f"{summary['errors']} errors), Rasa CPU {summary['rasa_cpu_ms_per_message']} ms per message, "
        f"{summary['samples']} samples"
    )
    for failure in summary["failures"]:  # type: ignore[union-attr]
        print(f"  failed: {failure}")
    for other in others:
        print(
            f"  {other['label']} ({other['date']}): {other['messages_per_second']} msg/s, p95 {other['p95_ms']} ms, "
            f"Rasa CPU {other['rasa_cpu_ms_per_message']} ms per message"
        )
    print(f"  {'share of the Rasa process samples':46}" + "".join(f" {o['label']:>8}" for o in others) + f" {label:>8}")
    for part, share in summary["parts"].items():  # type: ignore[union-attr]
        print(f"  {part:46}" + "".join(f" {o['parts'].get(part, 0):7.1f}%" for o in others) + f" {share:7.1f}%")
    print("  top functions by own time:")
    for frame, share in summary["top_self"][:12]:  # type: ignore[index]
        print(f"    {share:5.1f}%  {frame}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to run (default: this one)")
    parser.add_argument("--label", default=os.environ.get("PROFILE_LABEL", "after"))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("PROFILE_SECONDS", 20)))
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--scenarios", default=os.environ.get("PROFILE_SCENARIOS", "faq date"))
    parser.add_argument("--port", type=int, default=6105, help="Rasa's port; actions +50, content +51, web +3000")
    args = parser.parse_args()
    if not PY_SPY.exists():
        print("py-spy is missing: run `make profile`, which installs it into .venv-load", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    RAW.mkdir(exist_ok=True)
    CHECKOUTS.append(f"{args.root.resolve()}/")
    servers = load_servers(args.root.resolve())
    with tempfile.TemporaryDirectory(prefix="hsg-profile-") as tmp:
        print(f"Starting the assistant from {args.root} (port {args.port})...", flush=True)
        bot = servers.start_bot(
            Path(tmp),
            args.port,
            args.port + 50,
            "profile-" + uuid.uuid4().hex,
            web_port=args.port + 3000,
            content_port=args.port + 51,
            extra_env={"HSG_TODAY": TODAY, "HSG_TRACKER_DB": str(Path(tmp) / "tracker.sqlite3")},
        )
        try:
            summaries = [
                profile(bot, scenario, args.label, args.seconds, args.rate, 8 if scenario == "faq" else 4)
                for scenario in args.scenarios.split()
            ]
        finally:
            bot.stop()
    for summary in summaries:
        show(summary)
    print(f"\nFlame graphs: {OUT}/<scenario>-{args.label}.svg (open in a browser); raw stacks: {RAW}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
