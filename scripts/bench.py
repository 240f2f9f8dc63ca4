"""`make bench`: prints the assistant's figures (a benchmark, not a test).

Understanding on both held-out sets (the shipped model at the running bot next to
the plain TF-IDF baseline, see scripts/nlu_eval.py), the red-flag safety set (recall
and false alarms at the bot), training time, model size, resident memory of both
servers, REST reply latency (p50/p95) with one conversation and with 20 concurrent
conversations, and the date turn next to an FAQ turn.
"""
from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from scripts import nlu_eval  # noqa: E402
from scripts.servers import start_bot  # noqa: E402

FAQ_QUESTIONS = ["what is an hsg", "does it hurt", "how long does it take", "what is the balloon for",
                 "can i eat before the exam", "when do i get results", "is the radiation safe", "what is the dye"]
CONCURRENT = 20
MESSAGES_PER_CONVERSATION = 15
THINK_SECONDS = 1.0


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def rss_mb(pids: List[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def timed_post(url: str, sender: str, message: str) -> float:
    start = time.perf_counter()
    response = requests.post(url, json={"sender": sender, "message": message}, timeout=60)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000


def conversation(url: str, count: int, think: float = 0.0) -> List[float]:
    """One patient asking `count` questions, pausing `think` seconds (on average) between them."""
    sender = f"bench-{uuid.uuid4()}"
    rng = random.Random(sender)
    latencies = []
    for i in range(count):
        latencies.append(timed_post(url, sender, FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)]))
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
    return latencies


def concurrent(url: str, think: float):
    """CONCURRENT conversations at once; returns all latencies and the message rate."""
    with ThreadPoolExecutor(CONCURRENT) as pool:
        started = time.perf_counter()
        results = list(pool.map(lambda _: conversation(url, MESSAGES_PER_CONVERSATION, think), range(CONCURRENT)))
        elapsed = time.perf_counter() - started
    values = [value for result in results for value in result]
    return values, len(values) / elapsed


def bot_predict(url: str, token: str):
    """The running bot's reading of a message, for nlu_eval.score."""
    def predict(text: str) -> nlu_eval.Outcome:
        parsed = requests.post(f"{url}/model/parse", params={"token": token}, json={"text": text}, timeout=30).json()
        return nlu_eval.outcome_of_parse(parsed)
    return predict


def red_flag_figures(webhook: str, url: str, token: str) -> str:
    """Recall and false alarms of the urgent answer at the running bot (tests/nlu/red_flags.yml)."""
    flags = yaml.safe_load((ROOT / "tests/nlu/red_flags.yml").read_text(encoding="utf-8"))

    def urgent(text: str) -> bool:
        sender = f"flag-{uuid.uuid4()}"
        requests.post(webhook, json={"sender": sender, "message": text}, timeout=60)
        events = requests.get(f"{url}/conversations/{sender}/tracker", params={"token": token}, timeout=30).json()
        return any((e.get("metadata") or {}).get("utter_action") == "utter_urgent" for e in events["events"])

    caught = sum(urgent(item["text"]) for item in flags["urgent"])
    alarms = sum(urgent(item["text"]) for item in flags["not_urgent"])
    return (f"recall {caught}/{len(flags['urgent'])} ({caught / len(flags['urgent']):.0%}), false alarms "
            f"{alarms}/{len(flags['not_urgent'])} ({alarms / len(flags['not_urgent']):.1%})")


def train_from_scratch() -> float:
    """Seconds for a full `rasa train --force` of the same inputs into a scratch folder."""
    print("Training from scratch to time it (about a minute)...", flush=True)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/rasa"), "train", "--force", "--config", "config.yml",
                        "--domain", "build/domain.yml", "--data", "data", "--out", out],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started


def main() -> None:
    token = "bench-" + uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as tmp:
        print("Starting the assistant for the benchmark (ports 5205/5255)...", flush=True)
        bot = start_bot(Path(tmp), 5205, 5255, token, web_port=8205)
        try:
            webhook = f"{bot.url}/webhooks/rest/webhook"
            # understanding: the shipped model (at the bot) and the plain baseline, on both sets
            threshold = nlu_eval.fallback_threshold()
            shipped, baseline = bot_predict(bot.url, token), nlu_eval.baseline(nlu_eval.training_data())
            understanding = []
            for name, path in nlu_eval.SETS.items():
                cases = nlu_eval.load_cases(path)
                understanding.append(f"{name} ({len(cases)} messages):")
                understanding.append("  " + nlu_eval.report("shipped model", nlu_eval.score(cases, shipped, threshold)))
                understanding.append("  " + nlu_eval.report("baseline", nlu_eval.score(cases, baseline, threshold)))
            red_flags = red_flag_figures(webhook, bot.url, token)
            # warm up, then one conversation at a time (4 patients, one after another)
            conversation(webhook, 5)
            single = [value for _ in range(4) for value in conversation(webhook, MESSAGES_PER_CONVERSATION)]
            # 20 conversations at once: patients who pause to read (about 1 s), and the
            # worst case where every reply is answered at once (saturation)
            paced, paced_rate = concurrent(webhook, THINK_SECONDS)
            burst, burst_rate = concurrent(webhook, 0.0)
            # a date turn next to an FAQ turn, each in a fresh conversation
            date_turn = [timed_post(webhook, f"date-{uuid.uuid4()}", "my period started 3 days ago, when can i have the hsg")
                         for _ in range(20)]
            faq_turn = [timed_post(webhook, f"faq-{uuid.uuid4()}", "does the hsg hurt") for _ in range(20)]
            pids = bot.server_pids()
            rasa_mb, actions_mb = rss_mb(pids["rasa"]), rss_mb(pids["actions"])
        finally:
            bot.stop()
    train = f"{train_from_scratch():.0f} s (from scratch, no cache)"
    model_mb = (ROOT / "models" / "hsg.tar.gz").stat().st_size / 2**20
    print()
    print("understanding (top guess; what the patient got at the fallback threshold "
          f"{nlu_eval.fallback_threshold()}; baseline: TF-IDF + LogisticRegression on the whole message)")
    print("\n".join(understanding))
    print(f"red flags (urgent answer)  {red_flags}")
    print(f"training time              {train}")
    print(f"model size                 {model_mb:.1f} MB")
    print(f"memory (RSS)               rasa {rasa_mb:.0f} MB, actions {actions_mb:.0f} MB")
    print(f"latency, 1 conversation    p50 {statistics.median(single):.0f} ms, p95 {percentile(single, 95):.0f} ms "
          f"({len(single)} messages: 4 patients one after another, 15 each)")
    for label, values, rate in ((f"{THINK_SECONDS:.0f} s pauses", paced, paced_rate),
                                ("no pauses", burst, burst_rate)):
        print(f"latency, {CONCURRENT} concurrent     p50 {statistics.median(values):.0f} ms, "
              f"p95 {percentile(values, 95):.0f} ms ({len(values)} messages, {rate:.1f} msg/s, {label})")
    print(f"date turn vs FAQ turn      date p50 {statistics.median(date_turn):.0f} ms / p95 "
          f"{percentile(date_turn, 95):.0f} ms; FAQ p50 {statistics.median(faq_turn):.0f} ms / p95 "
          f"{percentile(faq_turn, 95):.0f} ms")


if __name__ == "__main__":
    main()
