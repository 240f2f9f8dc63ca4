"""Starts and stops the assistant (scripts/run.sh) for tests and benchmarks."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent

# The clinic's own values for a production-profile start in tests and benchmarks, which
# refuses the demo values of clinic.yml (common/demo_settings.py). Real-looking, not
# 555-01xx; never dialled nor shown to anyone but the test.
CLINIC_VALUES = {
    "clinic_phone": "303-420-7142",
    "after_hours_phone": "303-420-7199",
    "billing_phone": "303-420-7150",
    "booking_url": "https://clinic.example/book-hsg",
}


def free_ports(count: int) -> List[int]:
    """Ports nothing listens on right now (the OS picks them), so test runs and
    benchmarks started side by side do not collide."""
    import socket

    sockets, ports = [], []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
            ports.append(sock.getsockname()[1])
    finally:
        for sock in sockets:
            sock.close()
    return ports


def clinic_file(folder: Path, values: Optional[Dict[str, str]] = None) -> Path:
    """A copy of clinic.yml in `folder` with `values` (default CLINIC_VALUES) in place of
    its own, for HSG_CLINIC_SETTINGS; with the defaults it must hold no demo value."""
    import yaml

    from common.demo_settings import demo_settings

    settings = yaml.safe_load((ROOT / "clinic.yml").read_text(encoding="utf-8"))
    settings.update(CLINIC_VALUES if values is None else values)
    left = demo_settings(settings)
    if values is None and left:
        raise ValueError(
            f"clinic.yml has demo values that scripts/servers.py CLINIC_VALUES does not replace: "
            f"{', '.join(item.name for item in left)}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "clinic.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def stop_process_group(process: subprocess.Popen) -> None:
    """Stops a process started with start_new_session=True and everything it started:
    SIGTERM, then SIGKILL after 30 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class RunningBot:
    """A started scripts/run.sh: its ports, token, log folder and process group."""

    def __init__(
        self,
        process: subprocess.Popen,
        rasa_port: int,
        actions_port: int,
        token: str,
        run_dir: Path,
        web_port: int = 8080,
        content_port: int = 5056,
        env: Optional[Dict[str, str]] = None,
    ):
        self.process = process
        self.rasa_port = rasa_port
        self.actions_port = actions_port
        self.token = token
        self.run_dir = run_dir
        self.url = f"http://localhost:{rasa_port}"
        self.web_url = f"http://localhost:{web_port}"
        self.content_port = content_port
        self.content_url = f"http://localhost:{content_port}"
        self.env = env or {}

    def server_pids(self) -> Dict[str, List[int]]:
        """PIDs of the Rasa and action servers (found by their command lines)."""
        found: Dict[str, List[int]] = {"rasa": [], "actions": [], "content": []}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if f"-m editor.service --port {self.content_port}" in cmd and "bash" not in cmd:
                found["content"].append(int(entry.name))
            elif f"--port {self.actions_port}" in cmd and " -m actions" in cmd and "bash" not in cmd:
                found["actions"].append(int(entry.name))
            elif f"--port {self.rasa_port}" in cmd and " run " in cmd and "bash" not in cmd:
                found["rasa"].append(int(entry.name))
        return found

    def logs(self) -> str:
        return "".join(
            (self.run_dir / name).read_text(errors="replace")[-3000:]
            for name in ("run.out", "rasa.log", "actions.log", "web.log", "content.log")
            if (self.run_dir / name).exists()
        )

    def stop(self) -> None:
        stop_process_group(self.process)


def _isolated(env: Dict[str, str], run_dir: Path) -> Dict[str, str]:
    """The bot's own copy of content/ and its own accounts, report, conversations, last-known-good
    copy and state folder, all inside run_dir."""
    content_dir = run_dir / "content"
    if not content_dir.exists():
        shutil.copytree(ROOT / "content", content_dir)
    return dict(
        env,
        HSG_CONTENT_TOKEN=secrets.token_urlsafe(16),
        HSG_EDITOR_SECRET=secrets.token_urlsafe(16),
        HSG_CONTENT_DIR=str(content_dir),
        HSG_EDITORS_FILE=str(run_dir / "editors.json"),
        HSG_REPORT_DB=str(run_dir / "report.sqlite3"),
        HSG_CONTENT_LKG=str(run_dir / "content-lkg.json"),
        HSG_TRACKER_DB=str(run_dir / "tracker.sqlite3"),
        HSG_SMS_DB=str(run_dir / "sms.sqlite3"),
        HSG_STATE_DIR=str(run_dir / "state"),
    )


def _bare(env: Dict[str, str]) -> Dict[str, str]:
    """No HSG_* setting of this process but the run folder and the API token: run.sh's own defaults."""
    return {
        name: value
        for name, value in env.items()
        if not name.startswith("HSG_") or name in ("HSG_RUN_DIR", "HSG_API_TOKEN")
    }


def start_bot(
    run_dir: Path,
    rasa_port: int,
    actions_port: int,
    token: str,
    extra_env: Optional[Dict[str, str]] = None,
    timeout: float = 240,
    web_port: int = 8080,
    content_port: Optional[int] = None,
    args: Optional[List[str]] = None,
    root: Optional[Path] = None,
    isolate: bool = True,
) -> RunningBot:
    """Starts the servers with scripts/run.sh (of the checkout `root`, default this one)
    and waits until they answer.

    Unless extra_env says otherwise, the bot gets its own copy of content/, its own
    editor accounts, report, conversations, last-known-good copy and (production
    profile) state folder inside run_dir, so tests and benchmarks never change the
    project's files. With isolate=False it gets none of these, nor any HSG_* setting of
    this process: only the ports, the API token, HSG_RUN_DIR and extra_env, so run.sh's
    own defaults are what runs (the two-host test)."""
    root = Path(root or ROOT)
    run_dir.mkdir(parents=True, exist_ok=True)
    content_port = content_port or actions_port + 1
    env = dict(
        os.environ,
        RASA_PORT=str(rasa_port),
        ACTIONS_PORT=str(actions_port),
        WEB_PORT=str(web_port),
        CONTENT_PORT=str(content_port),
        HSG_RUN_DIR=str(run_dir),
        HSG_API_TOKEN=token,
    )
    env = _isolated(env, run_dir) if isolate else _bare(env)
    env.update(extra_env or {})
    process = subprocess.Popen(
        ["bash", str(root / "scripts" / "run.sh")] + list(args or []),
        cwd=root,
        env=env,
        stdout=open(run_dir / "run.out", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    bot = RunningBot(process, rasa_port, actions_port, token, run_dir, web_port, content_port, env)
    deadline = time.time() + timeout
    while not (run_dir / "ready").exists():
        if process.poll() is not None or time.time() > deadline:
            bot.stop()
            raise RuntimeError(f"The assistant did not start:\n{bot.logs()}")
        time.sleep(0.5)
    return bot
