"""Two hosts (issue 14 item 7): two separate copies of the project, each running a
complete `scripts/run.sh --prod` (one Rasa server each, to spare the CPU) with run.sh's
own defaults, against ONE PostgreSQL and ONE Redis (scripts/services.sh, on their own
ports and folder). Each copy is a git repository of this checkout's files, with .venv,
build/ and models/ linked to this checkout's (no training). The two hosts share only
what a deployment shares: the database, Redis, and the state folder's .env with the
secrets every host needs alike (the SMS hash key, the editor secret, the Twilio token).

Shown: an editor account made once (`make editor-user PROFILE=prod` on host A) works
on both hosts, and so do its sessions and the login throttle; an answer saved through
host A's editor is what host B's REST channel answers within 5 s; a report row from
host A is on host B's report; a signed STOP sent to host A holds on host B, and START
on host B works again; `make purge PROFILE=prod` purges the shared tables; and neither
checkout has any new file afterwards (`git status --porcelain --ignored`): logs,
secrets, the last-known-good copy and byte code went to each host's state folder.
First, without the hosts, the shared tables under two hosts' concurrent requests: an
SMS claimed once, failed logins counted once, the old SQLite opt-outs copied once.

A host here is a process tree on this machine with its own checkout, ports and state
folder; nothing but PostgreSQL and Redis is shared, as between two machines."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from conftest import ROOT, local_services
from twilio.request_validator import RequestValidator

PG_PORT, REDIS_PORT = 5653, 6593
HOSTS = {
    "a": {"lb": 7305, "actions": 7355, "content": 7356, "web": 8735},
    "b": {"lb": 7405, "actions": 7455, "content": 7456, "web": 8745},
}
TWILIO_TOKEN = "two-hosts-twilio-auth-token"
EDITOR = ("nurse.both", "a-long-password-for-both")
NUMBER = "+17205550188"
DEADLINE = 5.0  # seconds for an edit on one host to be live on the other


@pytest.fixture(scope="module")
def services():
    with local_services("hsg-test-two-hosts-", PG_PORT, REDIS_PORT) as running:
        yield running["settings"]


@pytest.fixture(scope="module")
def engine(services):
    from common import pg

    return pg.engine(
        sa.engine.URL.create(
            "postgresql",
            services["HSG_PG_USER"],
            services["HSG_PG_PASSWORD"],
            services["HSG_PG_HOST"],
            int(services["HSG_PG_PORT"]),
            services["HSG_PG_DB"],
        )
    )


def at_once(calls):
    """Runs the calls in threads released together; their results."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(number, call):
        start.wait()
        results[number] = call()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- the shared tables, without the hosts ---------------------------------------------------
def test_deliveries_of_one_sms_to_two_hosts_at_once_are_answered_once(engine):
    from components.sms_store import PgSmsStore

    host_a, host_b = PgSmsStore(engine), PgSmsStore(engine)
    sid = "SM" + uuid.uuid4().hex
    outcomes = at_once([lambda store=store: store.claim(sid) for store in (host_a, host_b) * 4])
    assert sorted(outcomes) == ["busy"] * 7 + ["claimed"]
    host_a.answered(sid)
    assert host_b.claim(sid) == "answered" and host_b.is_answered(sid)
    other = "SM" + uuid.uuid4().hex
    assert host_a.claim(other) == "claimed"
    host_a.release(other)  # answering failed on A: Twilio's retry may reach B
    assert host_b.claim(other) == "claimed"


def test_delivery_statuses_of_texts_sent_first_are_shared_and_never_go_back(engine):
    from common.sms_store import PgSmsStore

    host_a, host_b = PgSmsStore(engine), PgSmsStore(engine)
    sent, early = "SM" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex
    kind = "test-" + uuid.uuid4().hex[:8]
    host_a.record_sent(sent, kind)
    host_b.record_status(sent, "delivered")  # the callback reaches the other host
    host_a.record_status(sent, "sent")  # a late callback never replaces a final status
    assert host_a.sent_status(sent)["status"] == "delivered"
    host_b.record_status(early, "failed", "30003")  # a callback before the sender recorded the text
    host_a.record_sent(early, kind)
    assert {k: host_b.sent_status(early)[k] for k in ("kind", "status", "error_code")} == {
        "kind": kind,
        "status": "failed",
        "error_code": "30003",
    }
    assert host_b.status_counts(kind) == {"delivered": 1, "failed": 1}


def test_failed_logins_on_two_hosts_at_once_are_counted_once(engine):
    from editor.accounts import PgThrottle, Sessions

    name = "guess.target." + uuid.uuid4().hex[:6]  # no such account: each guess costs a hash and fails
    hosts = [
        Sessions("secret", accounts=Path("/nonexistent/editors.json"), throttle=PgThrottle(engine, base_delay=30))
        for _ in range(2)
    ]
    outcomes = at_once(
        [lambda s=hosts[n % 2]: s.login(name, "guess-guess-guess", "203.0.113.77").outcome for n in range(10)]
    )
    assert sorted(outcomes) == ["bad"] * 3 + ["wait"] * 7  # never more than the free failures get through


def test_opt_outs_of_the_sqlite_store_are_copied_into_postgresql_once(engine, tmp_path):
    from components.sms_store import PgSmsStore, SmsStore

    path = tmp_path / "sms.sqlite3"
    old = SmsStore(path)
    key = "sms-" + uuid.uuid4().hex
    old.opt_out(key)
    old.close()
    store = PgSmsStore(engine, legacy_path=path)
    assert store.is_opted_out(key)  # nobody who sent STOP before the switch is texted again
    store.opt_in(key)  # they send START on the new store
    assert not PgSmsStore(engine, legacy_path=path).is_opted_out(key)  # not copied a second time


# --- two complete hosts ---------------------------------------------------------------------
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]


def copy_checkout(target: Path) -> None:
    """The files of this checkout as they are now (tracked and new, not ignored), as a
    git repository of its own; .venv, build/ and models/ are links to this checkout's."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))
    for name in (".venv", "build", "models"):
        (target / name).symlink_to(ROOT / name)
    subprocess.run(GIT + ["init", "-q"], cwd=target, check=True)
    subprocess.run(GIT + ["add", "-A"], cwd=target, check=True)
    subprocess.run(GIT + ["commit", "-q", "-m", "a copy"], cwd=target, check=True)


def git_status(checkout: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


class Host:
    def __init__(self, name, folder, ports, bot=None):
        self.name, self.folder, self.ports, self.bot = name, folder, ports, bot
        self.checkout, self.state = folder / "checkout", folder / "state"
        self.url = f"http://localhost:{ports['lb']}"
        self.content_url = f"http://localhost:{ports['content']}"


@pytest.fixture(scope="module")
def hosts(services, tmp_path_factory):
    from scripts.servers import clinic_file, start_bot

    shared_env_file = "".join(
        f"{name}={value}\n"
        for name, value in (
            ("HSG_SMS_HASH_KEY", "two-hosts-" + uuid.uuid4().hex),
            ("HSG_EDITOR_SECRET", "two-hosts-" + uuid.uuid4().hex),
            ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        )
    )
    made = {}
    for name, ports in HOSTS.items():
        host = made[name] = Host(name, tmp_path_factory.mktemp(f"host-{name}"), ports)
        host.checkout.mkdir()
        copy_checkout(host.checkout)
        host.status_before = git_status(host.checkout)
        host.state.mkdir(mode=0o700)
        (host.state / ".env").write_text(shared_env_file)  # what every host of a deployment is given alike
        # PYTHONDONTWRITEBYTECODE empty: Python writes byte code, as on a real host (to the state folder);
        # the clinic's own numbers, outside the checkout: run-prod refuses clinic.yml's demo ones
        host.env = dict(
            services,
            HSG_INSTANCES="1",
            HSG_STATE_DIR=str(host.state),
            PYTHONDONTWRITEBYTECODE="",
            HSG_CLINIC_SETTINGS=str(clinic_file(host.folder / "clinic")),
        )

    def start(host):
        p = host.ports
        return start_bot(
            host.state / "run",
            p["lb"],
            p["actions"],
            "two-hosts-" + uuid.uuid4().hex,
            web_port=p["web"],
            content_port=p["content"],
            args=["--prod"],
            timeout=600,
            root=host.checkout,
            isolate=False,
            extra_env=host.env,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:  # both start at once, both fill PostgreSQL's answers
        futures = {name: pool.submit(start, host) for name, host in made.items()}
        errors = []
        for name, future in futures.items():
            try:
                made[name].bot = future.result()
            except Exception as error:
                errors.append(error)
    try:
        if errors:
            raise errors[0]
        yield made
    finally:
        for host in made.values():
            if host.bot:
                host.bot.stop()


def make(host, *args, **env):
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(host.checkout), *args],
        env=dict(os.environ, **host.env, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def login(host, name=EDITOR[0], password=EDITOR[1]):
    session = requests.Session()
    response = session.post(
        host.content_url + "/editor/login", data={"name": name, "password": password}, allow_redirects=False, timeout=30
    )
    return session, response


def me(host, cookie):
    response = requests.get(host.content_url + "/editor/api/me", cookies={"hsg_editor": cookie}, timeout=30)
    return response.json().get("editor") if response.status_code == 200 else None


def say(host, sender, message):
    response = requests.post(
        host.url + "/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    assert response.status_code == 200, response.text
    return [m.get("text", "") for m in response.json()]


def sms(host, body):
    url = host.url + "/webhooks/twilio/webhook"
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": NUMBER,
        "To": "+13035550142",
        "Body": body,
        "NumSegments": "1",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    response = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml"), response.text
    return response.text


@pytest.fixture(scope="module")
def editor_account(hosts):
    done = make(hosts["a"], "editor-user", f"NAME={EDITOR[0]}", "PROFILE=prod", HSG_EDITOR_PASSWORD=EDITOR[1])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PostgreSQL" in done.stdout and EDITOR[1] not in done.stdout + done.stderr
    return EDITOR


def test_an_editor_account_made_once_works_on_both_hosts_with_its_sessions(hosts, editor_account):
    a, b = hosts["a"], hosts["b"]
    for host in (a, b):
        session, response = login(host)
        assert response.status_code == 303 and response.headers["Location"] == "/editor", host.name
    session, _ = login(a)
    cookie = session.cookies.get("hsg_editor")
    assert me(a, cookie) == me(b, cookie) == EDITOR[0]  # a login on A is a login on B
    requests.post(b.content_url + "/editor/logout", cookies={"hsg_editor": cookie}, allow_redirects=False, timeout=30)
    assert me(a, cookie) is None  # logging out on B ends it on A too


def test_an_answer_saved_on_host_a_is_what_host_b_answers_within_5_seconds(hosts, editor_account):
    a, b = hosts["a"], hosts["b"]
    assert any("discomfort" in text for text in say(b, "before-" + uuid.uuid4().hex[:8], "does it hurt?"))
    session, _ = login(a)
    url = a.content_url + "/editor/api/answers/utter_faq/pain"
    current = session.get(url, timeout=30).json()
    text, marker = current["answer"]["web"]["text"], "Cramps may be stronger"
    assert "Cramps can be stronger" in text and marker not in text
    answer = dict(
        current["answer"], web=dict(current["answer"]["web"], text=text.replace("Cramps can be stronger", marker))
    )
    saved = session.post(
        url, json={"answer": answer, "base_version": current["version"], "note": "two hosts"}, timeout=30
    )
    assert saved.status_code == 200, saved.text
    deadline = time.monotonic() + DEADLINE
    while True:
        replies = say(b, "after-" + uuid.uuid4().hex[:8], "does it hurt?")
        if any(marker in text for text in replies):
            break
        assert time.monotonic() < deadline, f"host B still answers the old text after {DEADLINE:g} s: {replies}"
        time.sleep(0.25)
    history = requests.get(
        b.content_url + "/editor/api/answers/utter_faq/pain",
        cookies={"hsg_editor": login(b)[0].cookies.get("hsg_editor")},
        timeout=30,
    ).json()
    assert history["version"] == current["version"] + 1 and history["history"][-1]["by"] == EDITOR[0]


def test_what_host_a_could_not_answer_is_on_host_b_s_report(hosts, editor_account):
    a, b = hosts["a"], hosts["b"]
    question = "qwv zzkp flarb vorn " + uuid.uuid4().hex[:6]
    say(a, "report-" + uuid.uuid4().hex[:8], question)
    session, _ = login(b)
    deadline = time.monotonic() + 10  # the bot sends report rows in the background
    while not any(
        group["text"] == question
        for group in session.get(b.content_url + "/editor/api/report", timeout=30).json()["groups"]
    ):
        assert time.monotonic() < deadline, "the report row did not reach host B's report"
        time.sleep(0.25)


def test_a_stop_sent_to_host_a_holds_on_host_b_and_start_on_host_b_works(hosts):
    a, b = hosts["a"], hosts["b"]
    assert "<Message>" in sms(a, "what is an hsg")
    assert "<Message>" in sms(a, "STOP")  # confirmed once
    assert "<Message>" not in sms(b, "what is an hsg")  # B answers nothing to that number
    assert "<Message>" not in sms(a, "does it hurt?")
    assert "<Message>" in sms(b, "START")
    assert "<Message>" in sms(a, "what is an hsg")  # and A answers again


def test_failed_logins_on_host_a_are_counted_on_host_b(hosts, editor_account):
    a, b = hosts["a"], hosts["b"]
    for _ in range(3):  # the free failures for a name
        _, response = login(a, password="guess-guess-guess")
        assert "error=bad" in response.headers["Location"]
    _, response = login(b)
    assert response.status_code == 429  # the name is being guessed, whichever host is asked
    time.sleep(int(response.headers["Retry-After"]))
    assert login(b)[1].status_code == 303  # a pause, never a lock-out


def test_purge_on_the_shared_tables_and_no_new_file_in_either_checkout(hosts):
    done = make(hosts["b"], "purge", "PROFILE=prod")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answered SMS id(s)" in done.stdout and "report row(s)" in done.stdout and "PostgreSQL" in done.stdout
    for host in hosts.values():
        host.bot.stop()
        assert git_status(host.checkout) == host.status_before == "", host.name
        # what the profile wrote went to the state folder instead
        assert (host.state / "run" / "content.log").exists() and (host.state / "content-lkg.json").exists()
        assert "HSG_CONTENT_TOKEN=" in (host.state / ".env").read_text()  # a secret made on this host
        assert (host.state / "pycache").is_dir()
