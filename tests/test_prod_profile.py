"""The production profile on real servers: two Rasa instances share conversations in
PostgreSQL with a Redis lock store (scripts/services.sh installs both from Debian's
packages and starts them on loopback, on their own ports and folder), behind nginx,
which also takes the SMS webhook as a TLS proxy in front would forward it, limits the
web chat per client address, and `make purge` runs on its daily schedule. The profile
refuses clinic.yml's demo phone numbers and booking link (tests/test_demo_settings.py),
so it runs here with a copy holding real-looking ones (HSG_CLINIC_SETTINGS)."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import yaml
from conftest import ROOT, TODAY, local_services
from twilio.request_validator import RequestValidator

from scripts.purge import purge

LB_PORT, ACTIONS_PORT, CONTENT_PORT, WEB_PORT = 5705, 5755, 5756, 8705
INSTANCES = [LB_PORT + 11, LB_PORT + 12]
PG_PORT, REDIS_PORT = 5533, 6480
TWILIO_TOKEN = "prod-test-twilio-auth-token"
CLIENT_BURST, CLIENT_PER_MINUTE = 5, 6  # the per-address limit of this test's profile (nginx and Rasa)


@pytest.fixture(scope="module")
def services():
    with local_services("hsg-test-services-", PG_PORT, REDIS_PORT) as running:
        yield running


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """The clinic file of the running profile: clinic.yml with the clinic's own numbers."""
    from scripts.servers import clinic_file

    return clinic_file(tmp_path_factory.mktemp("clinic"))


@pytest.fixture(scope="module")
def prod(services, clinic, tmp_path_factory):
    from scripts.servers import start_bot

    run_dir = tmp_path_factory.mktemp("prod")
    bot = start_bot(
        run_dir,
        LB_PORT,
        ACTIONS_PORT,
        "prod-" + uuid.uuid4().hex,
        web_port=WEB_PORT,
        content_port=CONTENT_PORT,
        args=["--prod"],
        timeout=400,
        extra_env=dict(
            services["settings"],
            HSG_TODAY=TODAY.isoformat(),
            HSG_SMS_HASH_KEY="prod-test",
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            HSG_SMS_DB=str(run_dir / "sms.sqlite3"),
            HSG_CLINIC_SETTINGS=str(clinic),
            HSG_RATE_CLIENT_BURST=str(CLIENT_BURST),
            HSG_RATE_CLIENT_PER_MINUTE=str(CLIENT_PER_MINUTE),
        ),
    )
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def db(services):
    s = services["settings"]
    engine = sa.create_engine(
        sa.engine.URL.create(
            "postgresql",
            s["HSG_PG_USER"],
            s["HSG_PG_PASSWORD"],
            s["HSG_PG_HOST"],
            int(s["HSG_PG_PORT"]),
            s["HSG_PG_DB"],
        ),
        pool_pre_ping=True,
    )
    yield engine
    engine.dispose()


def say(port, sender, message):
    response = requests.post(
        f"http://localhost:{port}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    assert response.status_code == 200, response.text
    return [m.get("text", "") for m in response.json()]


def events(db, sender):
    with db.connect() as connection:
        return connection.execute(
            sa.text("SELECT id, type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).fetchall()


def assert_once_and_in_order(rows, user_messages):
    user_rows = [row for row in rows if row.type_name == "user"]
    assert len(user_rows) == user_messages, [row.type_name for row in rows]
    stamps = [row.timestamp for row in rows]
    assert stamps == sorted(stamps)
    assert len({(row.type_name, row.timestamp, row.data) for row in rows}) == len(rows)  # no event twice


def rasa_pids():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if any(f"--port {port} " in cmd for port in INSTANCES) and " run " in cmd and "bash" not in cmd:
                found.append(int(entry))
    return sorted(found)


def test_started_with_the_clinics_own_numbers_which_patients_are_given(prod, clinic):
    """With no demo value left in the clinic file, the profile starts (nothing refused, no
    demo line), and the urgent answer, in English and Spanish, through nginx, names the
    file's own phone numbers and no fictional 555-01xx one: every process reads the file
    that was checked (HSG_CLINIC_SETTINGS)."""
    from common.demo_settings import FICTIONAL_PHONE, demo_settings
    from common.settings import load_settings

    settings = load_settings(str(clinic))
    assert demo_settings(settings) == []
    started = (prod.run_dir / "run.out").read_text()
    assert "demo values" not in started and "will not start" not in started, started
    for message in ("I fainted. Should I go to the ER?", "me desmayé ayer después del estudio, es normal?"):
        replies = " ".join(say(LB_PORT, "own-" + uuid.uuid4().hex[:8], message))
        for key in ("clinic_phone", "after_hours_phone"):
            assert settings[key] in replies, (message, replies)
        assert not FICTIONAL_PHONE.search(replies), replies


def test_one_conversation_alternating_between_two_instances(prod, db):
    sender = "alt-" + uuid.uuid4().hex[:8]
    steps = [
        ("my period started Nov 20, when can I have the HSG?", "Friday, November 20"),
        ("it stopped on the 24th", "Friday, November 27"),
        ("does it hurt?", "discomfort"),
        ("thanks", ""),
    ]
    for number, (message, expected) in enumerate(steps):
        replies = say(INSTANCES[number % 2], sender, message)
        assert any(expected in text for text in replies), (message, replies)
    rows = events(db, sender)
    assert_once_and_in_order(rows, len(steps))
    tracker = requests.get(
        f"http://localhost:{INSTANCES[1]}/conversations/{sender}/tracker", params={"token": prod.token}, timeout=30
    ).json()
    assert tracker["slots"]["hsg_window_start"] == "2026-11-27" and tracker["slots"]["bleeding_end"] == "2026-11-24"


def test_twenty_concurrent_conversations_lose_no_message(prod, db):
    messages = ["what is an hsg", "does it hurt?", "how long does it take?", "what should I expect afterwards?"]

    def conversation(number):
        sender = f"load-{number}-{uuid.uuid4().hex[:6]}"
        for turn, message in enumerate(messages):
            port = INSTANCES[(number + turn) % 2] if number % 2 else LB_PORT  # direct, or through nginx
            assert say(port, sender, message), message
        return sender

    with ThreadPoolExecutor(max_workers=20) as pool:
        senders = list(pool.map(conversation, range(20)))
    for sender in senders:
        assert_once_and_in_order(events(db, sender), len(messages))


def pg_ctl(services, *args):
    pg_bin = sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = str(services["folder"] / "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run(
        as_pg
        + [
            f"{pg_bin}/pg_ctl",
            "-D",
            data,
            "-l",
            f"{data}/server.log",
            "-m",
            "fast",
            "-w",
            *args,
            "-o",
            f"-p {PG_PORT} -k {data} -c listen_addresses=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def store_unavailable_text(clinic):
    from common.settings import load_settings

    settings = load_settings(str(clinic))
    text = yaml.safe_load((ROOT / "content/answers/conversation/store_unavailable.yml").read_text())["web"]["text"]
    for key in ("clinic_name", "clinic_phone", "emergency_number"):
        text = text.replace("{" + key + "}", str(settings[key]))
    return text


def test_postgresql_down_then_restarted_mid_form_loses_nothing(prod, services, db, clinic):
    """A patient halfway through the date questions. While PostgreSQL is stopped, their
    next message gets "please send it again in a minute, or call" on both Rasa servers
    (not an answer on a blank conversation). After PostgreSQL is started again, with no
    other traffic in between, the same message carries the date questions on, and every
    event is stored once and in order. Fails without the FailSafeTrackerStore patch in
    components/rasa_patches.py (the outage reply becomes a form answer on an empty
    conversation) and without pool_pre_ping in components/tracker_store.py (the first
    message after the restart meets a dead pooled connection and gets the outage reply);
    both checked by removing them."""
    sender = "pgdown-" + uuid.uuid4().hex[:8]
    period = "my period started Nov 20, when can I have the HSG?"
    assert "bleeding stop" in say(INSTANCES[0], sender, period)[-1]
    before = events(db, sender)
    db.dispose()
    pids = rasa_pids()
    pg_ctl(services, "stop")
    try:
        for port in INSTANCES:
            assert say(port, sender, "it stopped on the 24th") == [store_unavailable_text(clinic)]
    finally:
        pg_ctl(services, "start")
    replies = say(INSTANCES[1], sender, "it stopped on the 24th")
    assert any("Friday, November 27" in text for text in replies), replies
    rows = events(db, sender)
    assert [tuple(row) for row in rows[: len(before)]] == [tuple(row) for row in before]
    assert_once_and_in_order(rows, 2)
    # A restart with no traffic in between: each server's pooled connections are now dead,
    # and the next message must still be answered (connections are checked before use).
    pg_ctl(services, "restart")
    for port in INSTANCES:
        assert any("discomfort" in text for text in say(port, sender, "does it hurt?"))
    assert_once_and_in_order(events(db, sender), 4)
    assert rasa_pids() == pids  # the same Rasa processes: no restart was needed


def test_restarting_postgresql_and_redis_during_traffic_needs_no_restart_of_rasa(prod, services):
    """Traffic runs while PostgreSQL restarts and Redis is replaced; once both are back,
    every request is answered (200) by the same Rasa processes, with no restart of Rasa.
    (While they are down, a request gets the "please try again" answer or a 503.)"""
    pids = rasa_pids()
    assert len(pids) == 2
    results, stop = [], threading.Event()

    def traffic():
        while not stop.is_set():
            try:
                response = requests.post(
                    f"http://localhost:{LB_PORT}/webhooks/rest/webhook",
                    json={"sender": "traffic-" + uuid.uuid4().hex[:6], "message": "does it hurt?"},
                    timeout=30,
                )
                results.append(response.status_code)
            except requests.RequestException:
                results.append(0)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        while len(results) < 3:  # traffic is flowing before the restart
            time.sleep(0.05)
        pg_ctl(services, "restart")
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True, timeout=30)
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "services.sh"), "start"],
            env=services["env"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        settled = len(results) + 1  # skip a request that may have started while they were down
        while len(results) < settled + 5:  # and after both are back
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join()
    assert results[settled:] and all(code == 200 for code in results[settled:]), results
    for number in range(10):
        sender = "after-" + uuid.uuid4().hex[:6]
        assert any("discomfort" in text for text in say(INSTANCES[number % 2], sender, "does it hurt?"))
    assert rasa_pids() == pids


def rasa_logs(prod):
    return "".join(
        (prod.run_dir / name).read_text(errors="replace")
        for name in ("rasa-1.log", "rasa-2.log")
        if (prod.run_dir / name).exists()
    )


def test_sms_behind_a_tls_proxy_through_nginx(prod):
    """Twilio calls https://sms.clinic.example/...; a TLS proxy passes the request on to
    the profile's nginx with X-Forwarded-Proto: https and the public Host. The signature
    is checked against that public URL (nginx, on loopback, is trusted by default in this
    profile), so a good one gets 200 with TwiML; a bad one gets 403 and one WARNING in
    the Rasa logs naming that URL, and no phone number is logged."""
    public = "https://sms.clinic.example/webhooks/twilio/webhook"
    number = "+17205550166"

    def post(token, signed_url=public, headers=(("Host", "sms.clinic.example"), ("X-Forwarded-Proto", "https"))):
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": number,
            "To": "+13035550142",
            "Body": "what is an hsg",
            "NumSegments": "1",
        }
        signature = RequestValidator(token).compute_signature(signed_url, form)
        return requests.post(
            f"http://localhost:{LB_PORT}/webhooks/twilio/webhook",
            data=form,
            headers=dict(headers, **{"X-Twilio-Signature": signature}),
            timeout=60,
        )

    good = post(TWILIO_TOKEN)
    assert good.status_code == 200 and good.headers["Content-Type"].startswith("text/xml"), good.text
    assert "<Message>" in good.text
    # Twilio calling nginx itself (no proxy in front): the URL keeps nginx's port.
    direct = post(TWILIO_TOKEN, f"http://localhost:{LB_PORT}/webhooks/twilio/webhook", ())
    assert direct.status_code == 200 and "<Message>" in direct.text, direct.text
    assert "SMS webhook: refused" not in rasa_logs(prod)

    bad = post("someone-elses-token")
    assert bad.status_code == 403 and "<Message>" not in bad.text
    for _ in range(20):  # the line is written before the 403 is sent; allow for the file's buffering
        warnings = [
            line for line in rasa_logs(prod).splitlines() if "WARNING" in line and "SMS webhook: refused" in line
        ]
        if warnings:
            break
        time.sleep(0.25)
    assert len(warnings) == 1 and public in warnings[0], warnings
    logs = rasa_logs(prod)
    assert number not in logs and number[2:] not in logs


def test_purge_on_postgresql_deletes_old_events_and_keeps_recent_ones(prod, db, services):
    now = time.time()
    with db.begin() as connection:
        for sender, stamp in (
            ("old-pg", now - 40 * 86400),
            ("recent-pg", now - 86400),
            ("going-pg", now - 40 * 86400),
            ("going-pg", now - 86400),
        ):
            connection.execute(
                sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"),
                {"s": sender, "t": stamp},
            )
    done = purge(db.url, 30, now)
    assert done.conversations >= 1 and done.trimmed >= 1
    with db.connect() as connection:
        left = [
            tuple(row)
            for row in connection.execute(
                sa.text("SELECT sender_id, timestamp FROM events WHERE sender_id LIKE '%-pg'")
            )
        ]
        senders = {row[0] for row in connection.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}
    assert sorted(left) == [("going-pg", now - 86400), ("recent-pg", now - 86400)]  # the old event of going-pg went
    assert any(sender.startswith("alt-") for sender in senders)  # today's conversations are kept
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "scripts/purge.py", "--prod"],
        cwd=ROOT,
        env=dict(os.environ, **services["settings"], HSG_SMS_DB=prod.env["HSG_SMS_DB"]),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "Deleted 0 conversation(s)" in result.stdout, result.stdout + result.stderr
    assert "Deleted 0 answered SMS id(s)" in result.stdout, result.stdout  # the SMS store, same rule
    assert services["settings"]["HSG_PG_PASSWORD"] not in result.stdout


def test_make_run_prod_runs_the_purge_at_start_and_says_so(prod):
    assert "Retention: make purge runs now and every 24 h" in (prod.run_dir / "run.out").read_text()
    # and the go-live count (editor/readiness.py): the answers are not yet approved, the
    # clinic's numbers are its own, and the retention job is scheduled
    readiness = re.search(r"==> Go-live readiness: (\d+) thing\(s\) stand .*", (prod.run_dir / "run.out").read_text())
    assert readiness and int(readiness.group(1)) > 0, (prod.run_dir / "run.out").read_text()
    assert "never approved in English" in readiness.group(0) and "demo values" not in readiness.group(0)
    assert "retention" not in readiness.group(0)
    log = (prod.run_dir / "purge.log").read_text()
    assert "conversation(s)" in log and "report row(s)" in log and "failed" not in log, log


def post_from(port, client, sender=None):
    """A web chat message as a TLS proxy on this machine passes it on (X-Forwarded-For)."""
    return requests.post(
        f"http://localhost:{port}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": sender or "limit-" + uuid.uuid4().hex[:8], "message": "does it hurt?"},
        headers={"X-Forwarded-For": client},
    )


def test_nginx_limits_each_client_address_and_keeps_serving_the_others(prod):
    """nginx's limit_req (CLIENT_PER_MINUTE after a burst of CLIENT_BURST here): one
    address past it gets nginx's own 429 (a JSON error, Retry-After 60) before Rasa sees
    the request, whichever Rasa server would have taken it; another address is served.
    Each Rasa server has the same limit itself (its 429 carries the answer's text), for
    a client that reaches it without nginx."""
    statuses = [post_from(LB_PORT, "203.0.113.7") for _ in range(CLIENT_BURST + 3)]
    codes = [response.status_code for response in statuses]
    assert codes[:CLIENT_BURST] == [200] * CLIENT_BURST and codes[-1] == 429, codes
    refused = statuses[-1]
    assert refused.json() == {"error": "too_many_requests", "retry_after": 60, "messages": []}
    assert refused.headers["Retry-After"] == "60"
    assert post_from(LB_PORT, "203.0.113.8").status_code == 200  # another client
    assert say(LB_PORT, "local-" + uuid.uuid4().hex[:6], "does it hurt?")  # this machine: no address limit
    direct = [post_from(INSTANCES[0], "203.0.113.9") for _ in range(CLIENT_BURST + 1)]
    assert [r.status_code for r in direct] == [200] * CLIENT_BURST + [429]
    assert direct[-1].json()["messages"][0]["text"] and 1 <= int(direct[-1].headers["Retry-After"]) <= 10


def test_bodies_over_64_kb_get_413_through_nginx_and_at_each_rasa_server(prod):
    """The production profile's limit, on the REST channel and the SMS webhook: nginx
    (client_max_body_size) in front, and each Rasa server's own 64 KB limit behind it."""
    big = {"sender": "big", "message": "hi", "metadata": {"x": "a" * 70000}}
    for port in [LB_PORT] + INSTANCES:
        rest = requests.post(f"http://localhost:{port}/webhooks/rest/webhook", json=big, timeout=30)
        sms = requests.post(f"http://localhost:{port}/webhooks/twilio/webhook", data={"Body": "a" * 70000}, timeout=30)
        assert rest.status_code == sms.status_code == 413
        # In front, nginx itself refuses (its own error page names it), so a removed
        # client_max_body_size fails here even though Rasa behind it would refuse too (review L15).
        assert all(("nginx" in r.text) == (port == LB_PORT) for r in (rest, sms)), (port, rest.text[:200])
    assert say(LB_PORT, "after-big-" + uuid.uuid4().hex[:6], "does it hurt?")
