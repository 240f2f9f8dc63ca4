"""`make load`: locust drives simulated patients over REST against the embedded
default, the production profile (two Rasa servers, PostgreSQL, Redis, nginx) and
Rasa's own starter bot (`rasa init`, the reference floor), one after the other.

Prints requests per second, p50/p95/p99 latency, errors and each process's peak
memory, and writes docs/load/latency.png (latency over time) and
docs/load/results.md. Not a test: it measures.

Settings: LOAD_USERS (default 50), LOAD_SECONDS (default 120), LOAD_PROFILES
(default "embedded prod starter").
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.servers import clinic_file, start_bot

LOCUST = ROOT / ".venv-load" / "bin" / "locust"
OUT = ROOT / "docs" / "load"
USERS = int(os.environ.get("LOAD_USERS", 50))
SECONDS = int(os.environ.get("LOAD_SECONDS", 120))
TODAY = "2026-11-27"  # the timing conversation's dates are written for this day


def processes() -> Dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                pass
    return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """Peak resident memory of each kind of process, sampled every second."""

    def __init__(self, roles: Dict[str, Callable[[str], bool]]) -> None:
        self.roles = roles
        self.peaks: Dict[str, float] = {role: 0.0 for role in roles}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            totals = {role: 0.0 for role in self.roles}
            counts = {role: 0 for role in self.roles}
            for pid, cmd in processes().items():
                for role, matches in self.roles.items():
                    if matches(cmd):
                        totals[role] += rss_mb(pid)
                        counts[role] += 1
                        break
            for role in self.roles:
                self.peaks[role] = max(self.peaks[role], totals[role])
            self.stop.wait(1)

    def __enter__(self) -> MemorySampler:
        self.thread.start()
        return self

    def __exit__(self, *args) -> None:
        self.stop.set()
        self.thread.join()


def run_locust(name: str, host: str, mix: str, folder: Path) -> Dict[str, object]:
    prefix = folder / name
    command = [
        str(LOCUST),
        "-f",
        str(ROOT / "scripts" / "locustfile.py"),
        "--headless",
        "--users",
        str(USERS),
        "--spawn-rate",
        "10",
        "--run-time",
        f"{SECONDS}s",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--csv-full-history",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    print(f"==> {name}: {USERS} simulated patients for {SECONDS} s against {host}", flush=True)
    subprocess.run(
        command,
        env=dict(os.environ, LOAD_MIX=mix),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(folder / f"{name}-locust.log", "w"),
        check=False,
    )
    with open(f"{prefix}_stats.csv") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    history = []
    with open(f"{prefix}_stats_history.csv") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated" and row["50%"] not in ("N/A", ""):
                history.append((float(row["Timestamp"]), float(row["50%"]), float(row["95%"]), float(row["99%"])))
    failures = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with open(failures_file) as handle:
            failures = [f"{row['Occurrences']} x {row['Name']}: {row['Error']}" for row in csv.DictReader(handle)]
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "history": history,
        "failures": failures,
    }


def bot_roles(
    rasa_ports: List[int], actions_port: int, content_port: int, prod: bool
) -> Dict[str, Callable[[str], bool]]:
    roles = {
        "rasa": lambda cmd: " run -m " in cmd and "bash" not in cmd and any(f"--port {p} " in cmd for p in rasa_ports),
        "actions": lambda cmd: " -m actions " in cmd and f"--port {actions_port}" in cmd and "bash" not in cmd,
        "content": lambda cmd: f"-m editor.service --port {content_port}" in cmd and "bash" not in cmd,
    }
    if prod:  # all PostgreSQL, Redis and nginx processes on the machine
        roles.update(
            {
                "postgres": lambda cmd: cmd.startswith("postgres") or "/bin/postgres" in cmd,
                "redis": lambda cmd: cmd.startswith("redis-server"),
                "nginx": lambda cmd: cmd.startswith("nginx"),
            }
        )
    return roles


def measure_bot(profile: str, folder: Path) -> Dict[str, object]:
    base = {"embedded": 5805, "prod": 5905}[profile]
    bot = start_bot(
        folder / profile,
        base,
        base + 50,
        "load-" + uuid.uuid4().hex,
        web_port=base + 3000,
        content_port=base + 51,
        args=["--prod"] if profile == "prod" else [],
        timeout=400,
        extra_env={
            "HSG_TODAY": TODAY,
            "HSG_SMS_HASH_KEY": "load",
            # the clinic's own numbers: run-prod refuses clinic.yml's demo ones
            "HSG_CLINIC_SETTINGS": str(clinic_file(folder / profile / "clinic")),
            "HSG_TRACKER_DB": str(folder / profile / "tracker.sqlite3"),
            # its own local PostgreSQL and Redis, never a developer's run-prod
            "HSG_PG_PORT": "5983",
            "HSG_REDIS_PORT": "6983",
        },
    )
    try:
        rasa_ports = [base + 11, base + 12] if profile == "prod" else [base]
        with MemorySampler(bot_roles(rasa_ports, base + 50, base + 51, profile == "prod")) as memory:
            result = run_locust(profile, bot.url, "hsg", folder)
        result["memory"] = {role: round(mb) for role, mb in memory.peaks.items() if mb}
        return result
    finally:
        bot.stop()


def measure_starter(folder: Path) -> Dict[str, object]:
    """Rasa's own starter bot, made and trained by `rasa init`, served the same way."""
    starter = folder / "starter"
    starter.mkdir()
    print("==> Making and training Rasa's starter bot (rasa init)", flush=True)
    rasa = str(ROOT / ".venv" / "bin" / "rasa")
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run(
        [rasa, "init", "--no-prompt", "--init-dir", str(starter)],
        cwd=folder,
        env=env,
        stdout=open(folder / "starter-init.log", "w"),
        stderr=subprocess.STDOUT,
        check=True,
    )
    port = 6005
    server = subprocess.Popen(
        [rasa, "run", "-m", "models", "--port", str(port)],
        cwd=starter,
        env=env,
        stdout=open(folder / "starter-run.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        import requests

        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if requests.post(
                    f"http://localhost:{port}/webhooks/rest/webhook",
                    json={"sender": "warm", "message": "hi"},
                    timeout=5,
                ).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        roles = {"rasa": lambda cmd: " run -m models " in cmd and f"--port {port}" in cmd}
        with MemorySampler(roles) as memory:
            result = run_locust("starter", f"http://localhost:{port}", "starter", folder)
        result["memory"] = {role: round(mb) for role, mb in memory.peaks.items() if mb}
        return result
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def chart(results: Dict[str, Dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 4.5), dpi=110)
    labels = {
        "embedded": "embedded (1 Rasa, SQLite)",
        "prod": "production (2 Rasa, PostgreSQL, Redis)",
        "starter": "Rasa starter bot (rasa init)",
    }
    for name, result in results.items():
        history = result["history"]
        if not history:
            continue
        start = history[0][0]
        times = [row[0] - start for row in history]
        (line,) = axis.plot(times, [row[2] for row in history], label=f"{labels[name]}: p95")
        axis.plot(
            times, [row[1] for row in history], linestyle="--", color=line.get_color(), label=f"{labels[name]}: p50"
        )
    axis.set_xlabel("seconds into the run")
    axis.set_ylabel("latency (ms)")
    axis.set_title(f"REST latency, {USERS} simulated patients (make load)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def table(results: Dict[str, Dict[str, object]]) -> str:
    lines = [
        "| profile | requests | req/s | p50 ms | p95 ms | p99 ms | errors | peak memory (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        memory = ", ".join(f"{role} {mb:,}" for role, mb in r["memory"].items())
        lines.append(
            f"| {name} | {r['requests']:,} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{r['p99']:.0f} | {r['errors']} | {memory} |"
        )
    return "\n".join(lines)


def main() -> int:
    if not LOCUST.exists():
        print("locust is missing: run `make load`, which installs it into .venv-load", file=sys.stderr)
        return 2
    profiles = os.environ.get("LOAD_PROFILES", "embedded prod starter").split()
    folder = Path(tempfile.mkdtemp(prefix="hsg-load-"))
    folder.chmod(0o755)
    results: Dict[str, Dict[str, object]] = {}
    try:
        for profile in profiles:
            results[profile] = measure_starter(folder) if profile == "starter" else measure_bot(profile, folder)
            r = results[profile]
            print(
                f"    {r['requests']} requests, {r['rps']:.1f}/s, p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
                f"p99 {r['p99']:.0f} ms, {r['errors']} errors",
                flush=True,
            )
            for failure in r["failures"][:10]:
                print(f"      {failure}")
        OUT.mkdir(parents=True, exist_ok=True)
        chart(results, OUT / "latency.png")
        summary = table(results)
        (OUT / "results.md").write_text(
            f"# make load, {time.strftime('%Y-%m-%d')}\n\n{USERS} simulated patients for {SECONDS} s each, "
            f"pausing 1 to 3 s between messages (scripts/locustfile.py).\n\n{summary}\n\n"
            "![Latency over time](latency.png)\n"
        )
        print("\n" + summary)
        print(f"\nChart: {OUT / 'latency.png'}; table: {OUT / 'results.md'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if all(r["errors"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
