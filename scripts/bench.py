"""`make bench`: prints the assistant's figures (a benchmark, not a test).

NLU accuracy on the held-out set, training time, model size, resident memory of
both servers, REST reply latency (p50/p95) with one conversation and with 20
concurrent conversations, and the date turn next to an FAQ turn.
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
sys.path.insert(0, str(ROOT / "tests"))

from conftest import load_nlu_examples, topic_key  # noqa: E402
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


def train_from_scratch() -> float:
    """Seconds for a full `rasa train --force` of the same inputs into a scratch folder."""
    print("Training from scratch to time it (about 4 minutes)...", flush=True)
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
            # NLU accuracy on the held-out set
            cases = [(text, key.split("/", 1)[-1]) for key, texts in
                     load_nlu_examples(ROOT / "tests/nlu/heldout.yml").items() for text in texts]
            correct = 0
            for text, key in cases:
                parsed = requests.post(f"{bot.url}/model/parse", params={"token": token}, json={"text": text},
                                       timeout=30).json()
                got = topic_key(parsed)
                correct += got == key or (key == "out_of_scope" and got == "nlu_fallback")
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
    print(f"NLU accuracy (held-out)    {correct / len(cases):.1%} ({correct}/{len(cases)})")
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
