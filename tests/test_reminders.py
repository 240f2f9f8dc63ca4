"""Text reminders (issue 26): REMIND after a date given by SMS, sent once at the clinic's
hour on the first good day (or a week before the device check), never in quiet hours,
cancelled by CANCEL REMINDER and STOP, moved by a new date, retried then reported.

The SMS channel runs its real webhook on its own Sanic server (tests/test_sms.py's
`webhook`) with a stand-in for Rasa that sets the date slots as the date actions do,
and a stand-in tracker store; the clock is frozen and injected (`channel.clock`, and
`run_once(now)` of the worker). Texts go out through common/outbound.py to the local
Twilio server (scripts/twilio_mock.py), or a recording stand-in where only the queue is
shown. Two workers on one PostgreSQL (scripts/services.sh) send each reminder once."""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
import threading
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT, SMS_HASH_KEY, TWILIO_TOKEN, local_services
from test_sms import post, sms_form, webhook

from common import reminders as queue_module
from common.reminders import ReminderPolicy, SqliteReminderQueue, send_time
from common.sms_segments import segments
from components.reminders import ReminderWorker
from components.sms_store import number_key

DENVER = ZoneInfo("America/Denver")
NUMBER = sms_form()["From"]
KEY = number_key(SMS_HASH_KEY, NUMBER)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=DENVER).timestamp()  # the frozen clock: Friday noon
WINDOW_DAY = date(2026, 11, 30)  # the first good day the stand-in bot gives
NINE = datetime(2026, 11, 30, 9, 0, tzinfo=DENVER).timestamp()


def at(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DENVER).timestamp()


class StandInBot:
    """Rasa's part: "window YYYY-MM-DD" sets hsg_window_start (and answers with the days),
    "device YYYY-MM-DD" sets device_check_date, "late" takes the window away, "hola" makes
    the conversation Spanish; every message gets one reply. Keeps the trackers."""

    def __init__(self):
        self.trackers = {}
        self.tracker_store = self
        self.nlg = None  # the channel renders from build/domain.yml

    async def retrieve(self, key):
        return self.trackers.get(key)

    async def __call__(self, message):
        from rasa.shared.core.events import SlotSet, UserUttered
        from rasa.shared.core.slots import TextSlot
        from rasa.shared.core.trackers import DialogueStateTracker

        slots = [TextSlot(name, mappings=[]) for name in ("language", "hsg_window_start", "device_check_date")]
        tracker = self.trackers.setdefault(
            message.sender_id, DialogueStateTracker.from_events(message.sender_id, [], slots=slots)
        )
        tracker.update(UserUttered(message.text))
        word, _, value = message.text.partition(" ")
        if word == "window":
            tracker.update(SlotSet("hsg_window_start", None))  # as actions/flow.py: cleared, then set
            tracker.update(SlotSet("hsg_window_start", value))
        elif word == "device":
            tracker.update(SlotSet("device_check_date", value))
        elif word == "late":
            tracker.update(SlotSet("hsg_window_start", None))
        elif word == "hola":
            tracker.update(SlotSet("language", "es"))
        await message.output_channel.send_text_message(message.sender_id, "An answer.")


def reminder_channel(tmp_path, reminders=True):
    """The SMS channel as Rasa makes it, with reminders on (they need Twilio's sending
    settings, which these tests do not set) and the frozen clock."""
    from components.twilio_sms import TwilioSmsInput

    channel = TwilioSmsInput(
        auth_token=TWILIO_TOKEN,
        hash_key=SMS_HASH_KEY,
        public_url="",
        store_path=str(tmp_path / "sms.sqlite3"),
        trusted_proxies="127.0.0.1",
        reminders=reminders,
    )
    channel.clock = lambda: NOW
    return channel


@functools.cache
def texts(name, language="en"):
    from components.twilio_sms import built_keyword_texts

    return built_keyword_texts(ROOT / "build" / "domain.yml", language, [name])[name]


@pytest.fixture()
def conversation(tmp_path):
    """(channel, stand-in bot) sharing one SMS database in tmp_path."""
    bot = StandInBot()
    return reminder_channel(tmp_path), bot


async def say_to(base, text):
    status, replies = await post(base, sms_form(body=text))
    assert status == 200
    return replies


class Recorder:
    """A stand-in for common/outbound.send_sms: records (number, text); fails as told."""

    def __init__(self, failures=0):
        self.sent, self.failures, self.lock = [], failures, threading.Lock()

    def __call__(self, number, body):
        from common.outbound import TemporarySendError

        with self.lock:
            if self.failures:
                self.failures -= 1
                raise TemporarySendError("Twilio answered HTTP 503", 503)
            self.sent.append((number, body))
            return "SM" + uuid.uuid4().hex


def worker_for(channel, send, render=None):
    return ReminderWorker(
        channel.desk.queue,
        channel.store.is_opted_out,
        send,
        render or texts,
        SMS_HASH_KEY,
        channel.desk.policy,
        channel.clock,
        lambda sid: channel.store.record_sent(sid, "reminder"),
    )


# --- when ----------------------------------------------------------------------------------------
def test_the_send_time_is_the_clinic_hour_on_the_first_good_day_or_a_week_before_the_device_check():
    policy = ReminderPolicy.from_settings({"reminder_hour": 9, "quiet_hours": "20:00-08:00"})
    assert send_time("window", WINDOW_DAY, policy) == NINE
    assert send_time("device", date(2027, 3, 1), policy) == at(date(2027, 2, 22), 9)
    # in the clinic's time zone, daylight saving included
    assert (
        send_time("window", date(2027, 7, 1), policy) == datetime(2027, 7, 1, 15, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    )


def test_quiet_hours_move_a_reminder_to_their_end():
    early = ReminderPolicy.from_settings({"reminder_hour": 6, "quiet_hours": "20:00-08:00"})
    assert send_time("window", WINDOW_DAY, early) == at(WINDOW_DAY, 8)
    late = ReminderPolicy.from_settings({"reminder_hour": 21, "quiet_hours": "20:00-08:00"})
    assert send_time("window", WINDOW_DAY, late) == at(WINDOW_DAY + timedelta(days=1), 8)
    daytime_quiet = ReminderPolicy.from_settings({"reminder_hour": 12, "quiet_hours": "11:30-13:00"})
    assert send_time("window", WINDOW_DAY, daytime_quiet) == at(WINDOW_DAY, 13)
    none = ReminderPolicy.from_settings({"reminder_hour": 2, "quiet_hours": ""})
    assert send_time("window", WINDOW_DAY, none) == at(WINDOW_DAY, 2)
    # a retry that would fall in them waits too
    assert queue_module.retry_time(2, at(WINDOW_DAY, 19, 58), early) == at(WINDOW_DAY + timedelta(days=1), 8)


@pytest.mark.parametrize(
    "settings",
    [{"reminder_hour": 24}, {"reminder_hour": "9"}, {"quiet_hours": "8pm to 8am"}, {"reminder_retry_minutes": [0]}],
)
def test_a_wrong_reminder_setting_is_refused_with_its_name(settings):
    with pytest.raises(ValueError, match="reminder_hour|quiet_hours|reminder_retry_minutes"):
        ReminderPolicy.from_settings(settings)


def test_the_shipped_clinic_settings_are_valid(settings):
    policy = ReminderPolicy.from_settings(settings)
    assert policy.hour == settings["reminder_hour"] and policy.time_zone == settings["time_zone"]


# --- the conversation ---------------------------------------------------------------------------
async def test_remind_after_a_window_schedules_one_text_at_the_set_hour_on_the_first_good_day(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        replies = await say_to(base, f"window {WINDOW_DAY}")
        assert replies == ["An answer.", texts("utter_reminder_offer")]
        assert "Reply REMIND" in replies[1]
        assert await say_to(base, "remind") == [texts("utter_reminder_set")]
    rows = channel.desk.queue.reminders(KEY)
    assert [(r["kind"], r["day"], r["status"], r["send_at"]) for r in rows] == [
        ("window", "2026-11-30", "pending", NINE)
    ]
    send = Recorder()
    worker = worker_for(channel, send)
    assert worker.run_once(NINE - 60) == 0 and not send.sent  # a minute early: nothing
    assert worker.run_once(NINE) == 1
    assert send.sent == [(NUMBER, texts("utter_reminder_window"))]
    assert worker.run_once(NINE + 3600) == 0 and len(send.sent) == 1  # once
    body = send.sent[0][1]
    assert "period came and the bleeding has stopped" in body and "call us first" in body
    assert channel.desk.queue.reminders(KEY)[0]["status"] == "sent"


async def test_the_number_is_stored_sealed_and_wiped_once_sent(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "REMIND")
    raw = (channel.desk.queue.path).read_bytes()
    digits = NUMBER.lstrip("+")
    assert digits.encode() not in raw
    import sqlite3

    with sqlite3.connect(channel.desk.queue.path) as db:
        (sealed,) = db.execute("SELECT number FROM reminders").fetchone()
    assert sealed and digits not in sealed and queue_module.unseal(SMS_HASH_KEY, sealed) == NUMBER
    worker_for(channel, Recorder()).run_once(NINE)
    with sqlite3.connect(channel.desk.queue.path) as db:
        assert db.execute("SELECT number FROM reminders").fetchall() == [(None,)]


async def test_spanish_words_get_spanish_answers_and_a_spanish_reminder(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, "hola")
        replies = await say_to(base, f"window {WINDOW_DAY}")
        assert replies[-1] == texts("utter_reminder_offer", "es") and "RECORDAR" in replies[-1]
        assert await say_to(base, "¡Recuérdame!") == [texts("utter_reminder_set", "es")]
    send = Recorder()
    worker_for(channel, send).run_once(NINE)
    assert send.sent == [(NUMBER, texts("utter_reminder_window", "es"))]
    assert segments(send.sent[0][1])[1] <= 4


async def test_a_restart_between_remind_and_the_hour_still_sends_it_once(conversation, tmp_path):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
    channel.desk.queue.close()  # the server stops; a new one starts on the same database
    again = reminder_channel(tmp_path)
    send = Recorder()
    assert worker_for(again, send).run_once(NINE) == 1
    assert worker_for(again, send).run_once(NINE + 60) == 0  # and a third start sends nothing more
    assert len(send.sent) == 1


async def test_cancel_reminder_and_stop_cancel_it(conversation):
    channel, bot = conversation
    send = Recorder()
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
        assert await say_to(base, "Cancel reminder.") == [texts("utter_reminder_cancelled")]
        assert worker_for(channel, send).run_once(NINE) == 0
        assert await say_to(base, "remind") == [texts("utter_reminder_set")]  # the offer still stands
        stop = await say_to(base, "STOP")
        assert stop == [texts("utter_sms_stop")]
        assert await say_to(base, "remind") == []  # opted out: nothing at all
    assert worker_for(channel, send).run_once(NINE) == 0 and not send.sent
    assert [r["status"] for r in channel.desk.queue.reminders(KEY)] == ["cancelled"]


async def test_cancelar_recordatorio_is_not_the_stop_word_cancelar(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "RECORDAR")
        assert await say_to(base, "cancelar recordatorio") == [texts("utter_reminder_cancelled", "es")]
        assert not channel.store.is_opted_out(KEY)


async def test_a_number_that_opts_out_after_remind_is_never_texted(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
    channel.store.opt_out(KEY)  # STOP reached another host, whose reminders code was older
    send = Recorder()
    assert worker_for(channel, send).run_once(NINE) == 1 and not send.sent
    assert channel.desk.queue.reminders(KEY)[0]["status"] == "cancelled"


async def test_a_new_date_replaces_the_reminder_and_a_late_period_cancels_it(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
        await say_to(base, "window 2026-12-02")
        rows = channel.desk.queue.reminders(KEY)
        assert [(r["day"], r["status"], r["send_at"]) for r in rows] == [
            ("2026-12-02", "pending", at(date(2026, 12, 2), 9))
        ]
        replies = await say_to(base, "late")
        assert replies == ["An answer."]  # no offer without a date
    assert [r["status"] for r in channel.desk.queue.reminders(KEY)] == ["cancelled"]
    send = Recorder()
    assert worker_for(channel, send).run_once(at(date(2026, 12, 3), 9)) == 0


async def test_no_offer_for_a_day_already_started_and_remind_without_a_date_says_so(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        assert await say_to(base, "window 2026-11-27") == ["An answer."]  # today at noon: 9:00 has passed
        assert await say_to(base, "remind") == [texts("utter_reminder_none")]
        assert await say_to(base, "what is an hsg") == ["An answer."]  # an ordinary message stays one
    assert channel.desk.queue.reminders(KEY) == []


async def test_a_device_reminder_goes_a_week_before_the_due_date(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        replies = await say_to(base, "device 2027-02-26")
        assert replies[-1] == texts("utter_reminder_offer_device") and "a week before" in replies[-1]
        await say_to(base, "remind")
    (row,) = channel.desk.queue.reminders(KEY)
    assert (row["kind"], row["send_at"]) == ("device", at(date(2027, 2, 19), 9))
    send = Recorder()
    worker = worker_for(channel, send)
    assert worker.run_once(at(date(2027, 2, 19), 8, 59)) == 0
    assert worker.run_once(at(date(2027, 2, 19), 9)) == 1
    assert send.sent == [(NUMBER, texts("utter_reminder_device"))]


async def test_reminders_are_off_without_the_sending_settings(tmp_path, monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    bot = StandInBot()
    channel = reminder_channel(tmp_path, reminders=None)
    assert channel.desk is None
    async with webhook(channel, bot, agent=bot) as base:
        assert await say_to(base, f"window {WINDOW_DAY}") == ["An answer."]
        assert await say_to(base, "remind") == ["An answer."]  # an ordinary message for the bot


# --- delivery -----------------------------------------------------------------------------------
async def test_a_passing_failure_is_retried_with_back_off_then_counted_failed(conversation, caplog):
    caplog.set_level(logging.INFO)
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
    send = Recorder(failures=99)
    worker = worker_for(channel, send)
    queue = channel.desk.queue
    moments = [NINE, NINE + 60, NINE + 6 * 60, NINE + 36 * 60]  # 1, 5, 30 minutes apart
    for number, moment in enumerate(moments):
        assert worker.run_once(moment - 1) == 0  # not before its time
        assert worker.run_once(moment) == 1
        (row,) = queue.reminders(KEY)
        assert row["tries"] == number + 1
    assert row["status"] == "failed" and queue.counts()["failed"] == 1
    assert worker.run_once(NINE + 86400) == 0
    assert NUMBER not in caplog.text and NUMBER[2:] not in caplog.text


async def test_one_passing_failure_then_sent_and_delivered_counts(conversation):
    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
    send = Recorder(failures=1)
    worker = worker_for(channel, send)
    assert worker.run_once(NINE) == 1 and not send.sent
    assert worker.run_once(NINE + 60) == 1 and len(send.sent) == 1
    queue = channel.desk.queue
    (row,) = queue.reminders(KEY)
    assert queue.counts() == {"sent": 1, "delivered": 0, "failed": 0, "waiting": 0}
    assert channel.store.sent_status(row["sid"])["kind"] == "reminder"  # what the status callback updates
    channel.store.record_status(row["sid"], "delivered")
    channel.store.record_status("SM" + "0" * 32, "failed")  # another text's failure counts for nothing here
    assert queue.counts() == {"sent": 1, "delivered": 1, "failed": 0, "waiting": 0}


# --- two workers ---------------------------------------------------------------------------------
def fill_queue(queue, count):
    """`count` reminders of `count` numbers, all due at NINE."""
    numbers = [f"+1720555{index:04d}" for index in range(count)]
    for number in numbers:
        key = number_key(SMS_HASH_KEY, number)
        queue.offer(key, "window", WINDOW_DAY, "en", NINE, NOW)
        assert queue.activate(key, queue_module.seal(SMS_HASH_KEY, number), None, NOW) == 1
    return numbers


def race(queues, count):
    """Two workers on the same database at the same moment; what they sent."""
    send = Recorder()
    policy = ReminderPolicy()
    workers = [
        ReminderWorker(q, lambda key: False, send, lambda name, lang: f"{name} {lang}", SMS_HASH_KEY, policy)
        for q in queues
    ]
    start = threading.Barrier(len(workers))

    def run(worker):
        start.wait()
        worker.run_once(NINE)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return send.sent


def test_two_workers_on_one_sqlite_file_send_each_reminder_once(tmp_path):
    first, second = SqliteReminderQueue(tmp_path / "sms.sqlite3"), SqliteReminderQueue(tmp_path / "sms.sqlite3")
    numbers = fill_queue(first, 40)
    sent = race([first, second], 40)
    assert sorted(number for number, _ in sent) == sorted(numbers)


def test_two_workers_on_one_postgresql_send_each_reminder_once():
    import sqlalchemy as sa

    from common import pg

    with local_services("hsg-test-reminders-", 5681, 6681) as running:
        settings = running["settings"]
        url = sa.engine.URL.create(
            "postgresql",
            settings["HSG_PG_USER"],
            settings["HSG_PG_PASSWORD"],
            settings["HSG_PG_HOST"],
            int(settings["HSG_PG_PORT"]),
            settings["HSG_PG_DB"],
        )
        pg.engine(url)  # the tables
        hosts = [sa.create_engine(url, future=True, pool_size=2) for _ in range(2)]  # two hosts' own pools
        queues = [queue_module.PgReminderQueue(engine) for engine in hosts]
        numbers = fill_queue(queues[0], 40)
        sent = race(queues, 40)
        assert sorted(number for number, _ in sent) == sorted(numbers)
        assert queues[1].counts()["sent"] == 40
        with hosts[0].begin() as connection:
            assert (
                connection.execute(sa.text("SELECT COUNT(*) FROM hsg_sms_reminders WHERE number IS NOT NULL")).scalar()
                == 0
            )
        for engine in hosts:
            engine.dispose()


# --- the texts ------------------------------------------------------------------------------------
REMINDER_ANSWERS = (
    "utter_reminder_offer",
    "utter_reminder_offer_device",
    "utter_reminder_set",
    "utter_reminder_none",
    "utter_reminder_cancelled",
    "utter_reminder_window",
    "utter_reminder_device",
)


@pytest.mark.parametrize("name", REMINDER_ANSWERS)
def test_each_reminder_text_fits_its_segments_in_both_languages(name):
    english, spanish = texts(name, "en"), texts(name, "es")
    assert segments(english) == ("GSM-7", segments(english)[1]) and segments(english)[1] <= 2, english
    assert segments(spanish)[1] <= 4, spanish
    assert english != spanish


def test_the_reminder_answers_pass_check_content():
    result = subprocess.run(
        [sys.executable, "scripts/check_content.py"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("utter_reminder")}
    assert set(rows) == set(REMINDER_ANSWERS)
    assert all(line.rstrip().endswith("OK") for line in rows.values()), rows
    assert result.returncode == 0, result.stdout[-2000:]


def test_the_reminder_texts_carry_the_safety_line():
    for language, words in {"en": ("bleeding has stopped", "late"), "es": ("paró el sangrado", "atrasada")}.items():
        for name in ("utter_reminder_window", "utter_reminder_device"):
            body = texts(name, language)
            assert all(word in body for word in words), body
            assert "303-555-0142" in body  # the clinic's phone (the demo settings)


# --- through common/outbound.py and the local Twilio server ---------------------------------------
@pytest.fixture()
def to_the_mock(twilio_mock, monkeypatch):
    """common/outbound.send_sms pointed at scripts/twilio_mock.py, as the running bot is."""
    from conftest import CLINIC_NUMBER, TWILIO_ACCOUNT

    for name, value in {
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": CLINIC_NUMBER,
        "TWILIO_API_BASE": twilio_mock.url,
        "TWILIO_STATUS_CALLBACK_URL": "",
    }.items():
        monkeypatch.setenv(name, value)
    twilio_mock.reset()
    yield twilio_mock
    twilio_mock.reset()


async def test_a_send_the_mock_fails_is_retried_and_then_reported_failed(conversation, to_the_mock):
    from common.outbound import send_sms

    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "remind")
    worker = worker_for(channel, send_sms)
    to_the_mock.fail(4, status=503, code=20503)  # Twilio down for the first try and the 3 retries
    for moment in (NINE, NINE + 60, NINE + 6 * 60, NINE + 36 * 60):
        assert worker.run_once(moment) == 1
    assert to_the_mock.messages() == []
    assert channel.desk.queue.counts() == {"sent": 0, "delivered": 0, "failed": 1, "waiting": 0}


async def test_a_send_the_mock_fails_once_goes_on_the_retry_with_the_reminder_text(conversation, to_the_mock):
    from common.outbound import send_sms

    channel, bot = conversation
    async with webhook(channel, bot, agent=bot) as base:
        await say_to(base, "hola")
        await say_to(base, f"window {WINDOW_DAY}")
        await say_to(base, "recordar")
    worker = worker_for(channel, send_sms)
    to_the_mock.fail(1, status=500, code=20500)
    assert worker.run_once(NINE) == 1 and to_the_mock.messages() == []
    assert worker.run_once(NINE + 30) == 0  # the retry waits its minute
    assert worker.run_once(NINE + 60) == 1
    (message,) = to_the_mock.messages()
    assert (message["to"], message["body"]) == (NUMBER, texts("utter_reminder_window", "es"))
    assert channel.desk.queue.counts()["sent"] == 1


# --- the running bot ------------------------------------------------------------------------------
def test_the_running_bot_sends_a_due_reminder_and_records_its_delivery(bot, twilio_mock):
    """The worker runs inside the real Rasa server (started with the channel), sends what is
    due through the Twilio mock in the conversation's language, from the bot's answers, and
    the signed status callback's "delivered" reaches the counts."""
    import time

    number = "+1720555" + str(uuid.uuid4().int)[:4]
    key = number_key(SMS_HASH_KEY, number)
    queue = SqliteReminderQueue(bot.run_dir / "sms.sqlite3")
    before = queue.counts()
    now = time.time()
    queue.offer(key, "device", date(2027, 1, 1), "es", now + 1, now)
    assert queue.activate(key, queue_module.seal(SMS_HASH_KEY, number), None, now) == 1
    deadline, found = time.time() + 30, []
    while time.time() < deadline and not found:
        time.sleep(0.5)
        found = [m for m in twilio_mock.messages() if m["to"] == number]
    assert [m["body"] for m in found] == [texts("utter_reminder_device", "es")]
    assert [r["status"] for r in queue.reminders(key)] == ["sent"]
    assert twilio_mock.report_status(found[0]["sid"], "delivered") == 204
    after = queue.counts()
    assert (after["sent"] - before["sent"], after["delivered"] - before["delivered"]) == (1, 1)
    assert number not in bot.logs() and number[2:] not in bot.logs()


def test_remind_at_the_running_bot_without_a_date_says_there_is_none(bot):
    from test_sms import Phone

    phone = Phone(bot)
    assert phone.text("REMIND") == [texts("utter_reminder_none")]
    assert phone.text("Recuérdame") == [texts("utter_reminder_none", "es")]
    assert phone.text("cancel reminder") == [texts("utter_reminder_cancelled")]


# --- retention and the report's counts -----------------------------------------------------------
def test_make_purge_deletes_finished_reminders_and_expired_offers_and_keeps_waiting_ones(tmp_path, monkeypatch):
    from scripts.purge import purge_reminders

    monkeypatch.setenv("HSG_SMS_DB", str(tmp_path / "sms.sqlite3"))
    monkeypatch.delenv("HSG_STORE", raising=False)
    queue = SqliteReminderQueue(tmp_path / "sms.sqlite3")
    long_ago = NOW - 40 * 86400
    keys = [number_key(SMS_HASH_KEY, f"+1720555010{n}") for n in range(4)]
    queue.offer(keys[0], "window", WINDOW_DAY, "en", long_ago + 3600, long_ago)  # an offer never taken up
    queue.offer(keys[1], "window", WINDOW_DAY, "en", long_ago + 3600, long_ago)
    queue.activate(keys[1], queue_module.seal(SMS_HASH_KEY, "+17205550101"), None, long_ago)
    worker = ReminderWorker(
        queue, lambda key: False, Recorder(), lambda name, language: "text", SMS_HASH_KEY, ReminderPolicy()
    )
    assert worker.run_once(long_ago + 3600) == 1  # sent 40 days ago
    queue.offer(keys[2], "window", WINDOW_DAY, "en", NINE, NOW)
    queue.activate(keys[2], queue_module.seal(SMS_HASH_KEY, "+17205550102"), None, NOW)  # waiting
    queue.offer(keys[3], "window", WINDOW_DAY, "en", NINE, NOW)  # offered, still ahead
    assert purge_reminders(False, 30, now=NOW) == 2
    assert [queue.reminders(key) != [] for key in keys] == [False, False, True, True]
    assert queue_module.reminder_counts(tmp_path / "sms.sqlite3", since=0) == {
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "waiting": 1,
    }


def test_purge_without_an_sms_store_does_nothing(tmp_path, monkeypatch):
    from scripts.purge import purge_reminders

    monkeypatch.setenv("HSG_SMS_DB", str(tmp_path / "none.sqlite3"))
    monkeypatch.delenv("HSG_STORE", raising=False)
    assert purge_reminders(False, 30) is None and not (tmp_path / "none.sqlite3").exists()
