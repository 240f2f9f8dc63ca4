"""`make bench`: prints the assistant's figures next to Rasa's starter bot (a benchmark, not a test).

Understanding on both held-out sets (the shipped model at the running bot next to
the plain TF-IDF baseline, see scripts/nlu_eval.py), the red-flag safety set (recall
and false alarms at the bot), training time from scratch, start-up time, model size,
resident memory of every process, and REST reply latency: one conversation, then 20
concurrent conversations against the assistant AND Rasa's own starter bot (made by
`rasa init`, trained once and kept in ~/.cache/hsg-bench/starter while the Rasa
version is the same), both running at once and driven by the same client: FAQ
questions only, the same with the date conversations mixed in, and the message rate at
saturation of one Rasa process. Ends with a date turn next to an FAQ turn.

Settings (environment): BENCH_CONVERSATIONS (20), BENCH_MESSAGES (15 per conversation),
BENCH_THINK (1.0 s between a patient's messages), BENCH_ROUNDS (2: the paced runs of both
bots are taken in turns this many times and pooled, so a busy moment of the machine hits
both alike), BENCH_SKIP ("train understanding" to skip the slow parts), HSG_BENCH_CACHE
(~/.cache/hsg-bench). The machine may be shared: the CPU that other processes used
during the latency runs is printed with the figures.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml

from scripts import nlu_eval
from scripts.servers import start_bot, stop_process_group

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
STARTER_MESSAGES = ["hello", "I am sad", "yes", "great", "bye"]  # the stock stories of `rasa init`
DATE_CONVERSATION = ["my period started Nov 20, when can I have the HSG?", "it stopped on the 24th"]
TODAY = "2026-11-27"  # the date conversation is written for this day (as in make load)
CONCURRENT = int(os.environ.get("BENCH_CONVERSATIONS", 20))
MESSAGES_PER_CONVERSATION = int(os.environ.get("BENCH_MESSAGES", 15))
THINK_SECONDS = float(os.environ.get("BENCH_THINK", 1.0))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))  # the paced runs, taken in turns, pooled
SKIP = os.environ.get("BENCH_SKIP", "").split()
CACHE = Path(os.environ.get("HSG_BENCH_CACHE", Path.home() / ".cache" / "hsg-bench"))
STARTER_PORT = 6305  # no test or other script uses it (make load's starter bot is on 6005)
RASA = ROOT / ".venv" / "bin" / "rasa"
QUIET_ENV = dict(
    os.environ,
    RASA_TELEMETRY_ENABLED="false",
    TF_CPP_MIN_LOG_LEVEL="2",
    PYTHONWARNINGS="ignore",
    SQLALCHEMY_SILENCE_UBER_WARNING="1",
)


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def rss_mb(pids: List[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def session_processes(session_id: int) -> Dict[int, str]:
    """Every process of a session (scripts/run.sh's, started in its own) with its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) == session_id:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            pass
    return found


def memory_by_role(bot) -> Dict[str, float]:
    """Resident memory of each of the assistant's processes, by role, and their total."""
    roles: Dict[str, List[int]] = {"rasa": [], "actions": [], "content": [], "web": [], "supervisors": []}
    for pid, cmd in session_processes(bot.process.pid).items():
        if " run -m " in cmd and "rasa" in cmd:
            roles["rasa"].append(pid)
        elif " -m actions" in cmd or " run actions" in cmd:
            roles["actions"].append(pid)
        elif "-m editor.service" in cmd:
            roles["content"].append(pid)
        elif "web/server.py" in cmd:
            roles["web"].append(pid)
        else:  # run.sh and its restart loops (and the odd curl or sleep)
            roles["supervisors"].append(pid)
    sizes = {role: rss_mb(pids) for role, pids in roles.items()}
    sizes["total"] = sum(sizes.values())
    return sizes


def timed_post(url: str, sender: str, message: str, session: Optional[requests.Session] = None) -> float:
    start = time.perf_counter()
    response = (session or requests).post(url, json={"sender": sender, "message": message}, timeout=60)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000


Script = Callable[[int], List[Tuple[str, str]]]  # conversation number -> (sender, message) to send in turn


def faq_script(count: int) -> Script:
    def script(_: int) -> List[Tuple[str, str]]:
        sender = f"bench-{uuid.uuid4()}"
        return [(sender, FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)]) for i in range(count)]

    return script


def mixed_script(count: int) -> Script:
    """Three FAQ questions, then a date conversation (its own sender: the form starts
    fresh), and again: 6 of every 15 messages are date messages, as in make load."""

    def script(_: int) -> List[Tuple[str, str]]:
        sender, messages = f"bench-{uuid.uuid4()}", []
        while len(messages) < count:
            messages += [(sender, FAQ_QUESTIONS[(len(messages) + i) % len(FAQ_QUESTIONS)]) for i in range(3)]
            date_sender = f"bench-date-{uuid.uuid4()}"
            messages += [(date_sender, text) for text in DATE_CONVERSATION]
        return messages[:count]

    return script


def starter_script(count: int) -> Script:
    def script(_: int) -> List[Tuple[str, str]]:
        sender = f"bench-{uuid.uuid4()}"
        return [(sender, STARTER_MESSAGES[i % len(STARTER_MESSAGES)]) for i in range(count)]

    return script


def conversation(url: str, count: int, think: float = 0.0, script: Optional[Script] = None) -> List[float]:
    """One patient sending `count` messages (FAQ questions unless `script` says otherwise),
    pausing `think` seconds (on average) between them, over one kept-open connection."""
    messages = (script or faq_script(count))(0)
    rng = random.Random(messages[0][0])
    latencies = []
    with requests.Session() as session:
        for i, (sender, message) in enumerate(messages):
            latencies.append(timed_post(url, sender, message, session))
            if think and i < len(messages) - 1:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    return latencies


def concurrent(url: str, think: float, script: Optional[Script] = None):
    """CONCURRENT conversations at once; returns all latencies and the message rate."""
    with ThreadPoolExecutor(CONCURRENT) as pool:
        started = time.perf_counter()
        results = list(
            pool.map(lambda _: conversation(url, MESSAGES_PER_CONVERSATION, think, script), range(CONCURRENT))
        )
        elapsed = time.perf_counter() - started
    values = [value for result in results for value in result]
    return values, len(values) / elapsed


def bot_predict(url: str, token: str):
    """The running bot's reading of a message, for nlu_eval.score."""

    def predict(text: str) -> nlu_eval.Outcome:
        parsed = requests.post(f"{url}/model/parse", params={"token": token}, json={"text": text}, timeout=30).json()
        return nlu_eval.outcome_of_parse(parsed)

    return predict


def red_flag_figures(webhook: str, url: str, token: str, path: str = "tests/nlu/red_flags.yml") -> str:
    """Recall and false alarms of the urgent answer at the running bot (a red-flag set)."""
    flags = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))

    def urgent(text: str) -> bool:
        sender = f"flag-{uuid.uuid4()}"
        requests.post(webhook, json={"sender": sender, "message": text}, timeout=60)
        events = requests.get(f"{url}/conversations/{sender}/tracker", params={"token": token}, timeout=30).json()
        return any((e.get("metadata") or {}).get("utter_action") == "utter_urgent" for e in events["events"])

    caught = sum(urgent(item["text"]) for item in flags["urgent"])
    alarms = sum(urgent(item["text"]) for item in flags["not_urgent"])
    return (
        f"recall {caught}/{len(flags['urgent'])} ({caught / len(flags['urgent']):.0%}), false alarms "
        f"{alarms}/{len(flags['not_urgent'])} ({alarms / len(flags['not_urgent']):.1%})"
    )


def train_from_scratch() -> float:
    """Seconds for a full `rasa train --force` of the same inputs into a scratch folder."""
    print("Training from scratch to time it (about a minute)...", flush=True)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venv/bin/rasa"),
                "train",
                "--force",
                "--config",
                "config.yml",
                "--domain",
                "build/domain.yml",
                "--data",
                "data",
                "--out",
                out,
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


def starter_model() -> Path:
    """Rasa's starter bot (`rasa init`), made and trained once, kept while the Rasa version is the same."""
    folder, rasa_version = CACHE / "starter", version("rasa")
    stamp = folder / "made-with-rasa"
    models = sorted((folder / "models").glob("*.tar.gz"))
    if stamp.exists() and stamp.read_text().strip() == rasa_version and models:
        return models[-1]
    print(f"Making and training Rasa's starter bot (rasa init) in {folder}, once (a few minutes)...", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with open(CACHE / "starter-init.log", "w") as log:
        subprocess.run(
            [str(RASA), "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=CACHE,
            env=QUIET_ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    stamp.write_text(rasa_version + "\n")
    return sorted((folder / "models").glob("*.tar.gz"))[-1]


class StarterBot:
    """`rasa run --enable-api` on the starter bot's model, on STARTER_PORT."""

    def __init__(self, model: Path) -> None:
        self.url = f"http://localhost:{STARTER_PORT}"
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(RASA), "run", "-m", str(model), "--enable-api", "--port", str(STARTER_PORT)],
            cwd=model.parent.parent,
            env=QUIET_ENV,
            start_new_session=True,
            stdout=open(CACHE / "starter-run.log", "w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 300
        while True:
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"The starter bot did not start: see {CACHE / 'starter-run.log'}")
            try:
                if requests.post(
                    f"{self.url}/webhooks/rest/webhook", json={"sender": "warm", "message": "hello"}, timeout=5
                ).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.startup = time.perf_counter() - started

    def rss_mb(self) -> float:
        return rss_mb(list(session_processes(self.process.pid)))

    def stop(self) -> None:
        stop_process_group(self.process)


def cpu_seconds(pids: List[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


class OtherWork:
    """CPU the rest of the machine used meanwhile (all busy time less the bots' and this script's)."""

    def __init__(self, sessions: List[int]) -> None:
        self.sessions = sessions
        self.started = time.perf_counter()
        self.busy, self.ours = self.machine_busy(), self.our_cpu()

    @staticmethod
    def machine_busy() -> float:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait

    def our_cpu(self) -> float:
        pids = [os.getpid()] + [pid for session in self.sessions for pid in session_processes(session)]
        return cpu_seconds(pids)

    def cores(self) -> float:
        """Cores' worth of CPU used by other processes since the start."""
        other = (self.machine_busy() - self.busy) - (self.our_cpu() - self.ours)
        return max(0.0, other) / (time.perf_counter() - self.started)


def model_is_current() -> bool:
    """What `make run` checks first: is the trained model newer than its inputs?"""
    return (
        subprocess.run(
            ["make", "-q", "train"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


def figures(values: List[float]) -> str:
    return f"p50 {statistics.median(values):4.0f} ms, p95 {percentile(values, 95):4.0f} ms"


def understanding_figures(bot_url: str, token: str) -> List[str]:
    """The shipped model (at the bot) and the plain baseline on each set, English and Spanish,
    with the real patients' test parts (printed here, at the end of a round, never while choosing)."""
    lines: List[str] = []
    threshold = nlu_eval.fallback_threshold()
    shipped, baseline = bot_predict(bot_url, token), nlu_eval.baseline(nlu_eval.training_data())
    for name, path in {**nlu_eval.SETS, "real test en": nlu_eval.REAL_TEST_SETS["real test en"]}.items():
        cases = nlu_eval.load_cases(path)
        lines.append(f"{name} ({len(cases)} messages):")
        lines.append("  " + nlu_eval.report("shipped model", nlu_eval.score(cases, shipped, threshold)))
        lines.append("  " + nlu_eval.report("baseline", nlu_eval.score(cases, baseline, threshold)))
    # Spanish: the baseline trained on all of data/ (both languages), the shipped model at the bot;
    # the real patients' test parts (issue 23), each language against its baseline
    baseline_both = nlu_eval.bilingual_baseline()
    for name, path in {**nlu_eval.SETS_ES, "real test es": nlu_eval.REAL_TEST_SETS["real test es"]}.items():
        cases = nlu_eval.load_cases(path)
        lines.append(f"{name} ({len(cases)} messages):")
        lines.append("  " + nlu_eval.report("shipped model", nlu_eval.score(cases, shipped, threshold)))
        lines.append("  " + nlu_eval.report("baseline (en+es)", nlu_eval.score(cases, baseline_both, threshold)))
    return lines


def latency_figures(webhook: str, starter_hook: str) -> Dict[str, List[float]]:
    """Every latency series of the report, in ms (and the two saturation rates, messages/s)."""
    # warm up both, then one conversation at a time (4 patients, one after another)
    conversation(webhook, 5)
    conversation(webhook, 4, script=mixed_script(4))
    conversation(starter_hook, 5, script=starter_script(5))
    runs: Dict[str, List[float]] = {
        "single": [value for _ in range(4) for value in conversation(webhook, MESSAGES_PER_CONVERSATION)]
    }
    # 20 conversations at once, patients pausing to read (about 1 s): FAQ only, against
    # the starter bot with its own messages, then with the date conversations mixed in
    # (in turns, ROUNDS times, pooled)
    runs.update(ours_faq=[], theirs=[], ours_mixed=[])
    for _ in range(ROUNDS):
        runs["ours_faq"] += concurrent(webhook, THINK_SECONDS)[0]
        runs["theirs"] += concurrent(starter_hook, THINK_SECONDS, starter_script(MESSAGES_PER_CONVERSATION))[0]
        runs["ours_mixed"] += concurrent(webhook, THINK_SECONDS, mixed_script(MESSAGES_PER_CONVERSATION))[0]
    # saturation: every reply answered at once, no pauses
    for name, hook, script in (
        ("burst", webhook, None),
        ("mixed_burst", webhook, mixed_script(MESSAGES_PER_CONVERSATION)),
        ("starter_burst", starter_hook, starter_script(MESSAGES_PER_CONVERSATION)),
    ):
        runs[name], rate = concurrent(hook, 0.0, script)
        runs[name + "_rate"] = [rate]
    # a date turn next to an FAQ turn, each in a fresh conversation
    runs["date_turn"] = [
        timed_post(webhook, f"date-{uuid.uuid4()}", "my period started 3 days ago, when can i have the hsg")
        for _ in range(20)
    ]
    runs["faq_turn"] = [timed_post(webhook, f"faq-{uuid.uuid4()}", "does the hsg hurt") for _ in range(20)]
    return runs


def print_latency(runs: Dict[str, List[float]]) -> None:
    print(
        f"latency, 1 conversation    {figures(runs['single'])} ({len(runs['single'])} messages: 4 patients one "
        f"after another, {MESSAGES_PER_CONVERSATION} each)"
    )
    ratio = percentile(runs["ours_faq"], 95) / percentile(runs["theirs"], 95)
    mixed_ratio = percentile(runs["ours_mixed"], 95) / percentile(runs["theirs"], 95)
    print(
        f"{CONCURRENT} concurrent conversations, {MESSAGES_PER_CONVERSATION} messages each, "
        f"~{THINK_SECONDS:g} s pauses, "
        f"{ROUNDS} rounds taken in turns ({len(runs['ours_faq'])} messages a row; same client, same run; "
        f"ratio = assistant p95 / starter bot p95, goal <= 0.7):"
    )
    print(
        f"  FAQ questions            assistant {figures(runs['ours_faq'])} | starter bot {figures(runs['theirs'])} | "
        f"ratio {ratio:.2f}"
    )
    print(
        f"  with date conversations  assistant {figures(runs['ours_mixed'])} | starter bot (same run as above) | "
        f"ratio {mixed_ratio:.2f}"
    )
    print(f"saturation, {CONCURRENT} at once without pauses, one Rasa process:")
    print(f"  assistant, FAQ only      {runs['burst_rate'][0]:5.1f} messages/s ({figures(runs['burst'])})")
    print(f"  assistant, with dates    {runs['mixed_burst_rate'][0]:5.1f} messages/s ({figures(runs['mixed_burst'])})")
    print(
        f"  starter bot              {runs['starter_burst_rate'][0]:5.1f} messages/s ({figures(runs['starter_burst'])})"
    )
    date_turn, faq_turn = runs["date_turn"], runs["faq_turn"]
    print(
        f"date turn vs FAQ turn      date p50 {statistics.median(date_turn):.0f} ms / p95 "
        f"{percentile(date_turn, 95):.0f} ms; FAQ p50 {statistics.median(faq_turn):.0f} ms / p95 "
        f"{percentile(faq_turn, 95):.0f} ms"
    )


def main() -> None:
    token = "bench-" + uuid.uuid4().hex
    current = model_is_current()
    understanding: List[str] = []
    red_flags = red_flags_es = "skipped (BENCH_SKIP)"
    starter: Optional[StarterBot] = None
    with tempfile.TemporaryDirectory() as tmp:
        print("Starting the assistant for the benchmark (ports 5205/5255)...", flush=True)
        started = time.perf_counter()
        bot = start_bot(Path(tmp), 5205, 5255, token, web_port=8205, extra_env={"HSG_TODAY": TODAY})
        startup = time.perf_counter() - started
        try:
            starter = StarterBot(starter_model())
            webhook = f"{bot.url}/webhooks/rest/webhook"
            if "understanding" not in SKIP:
                understanding = understanding_figures(bot.url, token)
                red_flags = red_flag_figures(webhook, bot.url, token)
                red_flags_es = red_flag_figures(webhook, bot.url, token, "tests/nlu/es/red_flags.yml")
            print("Measuring latency (the assistant and the starter bot, one after the other)...", flush=True)
            other_work = OtherWork([bot.process.pid, starter.process.pid])
            runs = latency_figures(webhook, f"{starter.url}/webhooks/rest/webhook")
            others = other_work.cores()
            memory = memory_by_role(bot)
            starter_mb = starter.rss_mb()
        finally:
            if starter:
                starter.stop()
            bot.stop()
    train = "skipped (BENCH_SKIP)" if "train" in SKIP else f"{train_from_scratch():.0f} s (from scratch, no cache)"
    model_mb = (ROOT / "models" / "hsg.tar.gz").stat().st_size / 2**20
    print()
    if understanding:
        print(
            "understanding (top guess; what the patient got at the fallback threshold "
            f"{nlu_eval.fallback_threshold()}; baseline: TF-IDF + LogisticRegression on the whole message)"
        )
        print("\n".join(understanding))
    print(f"red flags (urgent answer)  {red_flags}")
    print(f"red flags, Spanish         {red_flags_es}")
    print(f"training time              {train}")
    print(
        f"start-up                   {startup:.0f} s from scripts/run.sh (what `make run` starts) to ready, model "
        f"{'current' if current else 'NOT current (make run would train first)'}; starter bot {starter.startup:.0f} s"
    )
    print(f"model size                 {model_mb:.1f} MB")
    print(
        f"memory (RSS)               rasa {memory['rasa']:.0f} MB, actions {memory['actions']:.0f} MB, content "
        f"{memory['content']:.0f} MB, web {memory['web']:.0f} MB, run.sh and its loops {memory['supervisors']:.0f} MB; "
        f"embedded default total {memory['total']:,.0f} MB (starter bot: rasa {starter_mb:,.0f} MB)"
    )
    print_latency(runs)
    print(
        f"machine                    {os.cpu_count()} cores; other processes used {others:.2f} cores' worth of CPU "
        f"during the latency runs (0 on a machine of its own)"
    )


if __name__ == "__main__":
    main()
