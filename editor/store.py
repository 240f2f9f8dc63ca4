"""The content store: every patient-facing answer, its history, and how Rasa sees it.

No Rasa imports: the content service, the build and the checks all use this.

An answer is one YAML file under content/answers/<group>/ with these fields:
    response      the Rasa response name (utter_faq/pain, utter_greet, ...)
    source        where its facts come from (content/checks.yml lists the sources)
    reviewed_by   who last reviewed it (null until somebody has)
    reviewed_on   when (YYYY-MM-DD)
    web           {text, buttons, custom}: the web chat form
    sms           {text, buttons}: the SMS form (channel "twilio")
    sms_only      true for replies that only exist on SMS (STOP, START, HELP)
    es            optional, the Spanish version: {reviewed_by, reviewed_on, web, sms}, its
                  own review (by a bilingual clinician) and forms of the same shape
                  (an sms_only answer's has only `sms`); `source` is shared

`FileContentStore` keeps the files as the store of record (reviewable in git) and
each answer's history as JSON lines in content/history/: the embedded default.
`PgContentStore` keeps them in PostgreSQL (tables hsg_answers and hsg_answer_history,
common/pg.py), shared by every host of the production profile (HSG_STORE=postgresql).
It is filled from the files (HSG_CONTENT_DIR, else content/) when its table is empty,
and an answer that is in the files but not yet in the database (one that came with a
code update) is added the same way, its history saying "imported from the files". From
then on the database is the store of record: `python -m editor.content_sync export`
(`make content-export`) writes its answers back to the files for git, and `... import`
saves the files' answers as new versions. `open_store()` picks the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

from common.settings import fill
from editor.signoff import NOT_LIVE, last_live

logger = logging.getLogger("hsg.content")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "content"
FIELDS = ("response", "source", "reviewed_by", "reviewed_on", "sms_only", "web", "sms", "es")
SPANISH_FIELDS = ("reviewed_by", "reviewed_on", "web", "sms")
FORM_FIELDS = ("text", "buttons", "custom")
SMS_CHANNEL = "twilio"
LANGUAGE_SLOT = "language"
SPANISH = [{"type": "slot", "name": LANGUAGE_SLOT, "value": "es"}]  # the Spanish variants' condition


class StoreError(ValueError):
    """A request the store cannot carry out (unknown answer, stale version, bad shape)."""


class ChecksFailed(StoreError):
    """Answers that fail their checks (editor/checks.py) were refused: `failures` maps
    each answer's name to the names of the checks it fails."""

    def __init__(self, failures: Dict[str, List[str]]) -> None:
        self.failures = failures
        super().__init__(
            "refused, these answers fail their checks: "
            + "; ".join(f"{name} ({', '.join(found)})" for name, found in sorted(failures.items()))
        )


def failed_checks(name: str, answer: Dict[str, Any]) -> List[str]:
    """The names of the checks `answer` fails (editor/checks.py `check_answer`, both
    languages, with this clinic's settings); empty when it may go live."""
    from common.settings import load_settings, placeholders
    from editor import checks

    settings = load_settings()
    problems = checks.check_answer(name, answer, placeholders(settings), None, placeholders(settings, "es"))
    return sorted({problem.check for problem in problems})


# libyaml's parser when PyYAML has it: reading every answer (the English and the Spanish
# forms) after a save is then a few tens of milliseconds instead of about half a second.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    """Long texts in double quotes on one line, so a changed answer is a one-line diff."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style='"' if len(value) > 60 or "'" in value or "\n" in value else None
    ),
)


def dump_answer(answer: Dict[str, Any]) -> str:
    ordered = {key: answer[key] for key in FIELDS if key in answer}
    if isinstance(ordered.get("es"), dict):
        ordered["es"] = {key: ordered["es"][key] for key in SPANISH_FIELDS if key in ordered["es"]}
    return yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def _clean_reviews(source: Dict[str, Any], clean: Dict[str, Any]) -> None:
    for key in ("reviewed_by", "reviewed_on"):
        value = source.get(key)
        if value is not None and not isinstance(value, str):
            value = str(value)
        clean[key] = value.strip() if isinstance(value, str) and value.strip() else None


def _clean_forms(source: Dict[str, Any], clean: Dict[str, Any], where: str = "") -> None:
    """The web and sms forms of `source` into `clean`: text stripped, empty buttons and
    custom parts dropped; StoreError when a form has the wrong shape."""
    for form in ("web", "sms"):
        part = source.get(form)
        if part is None:
            continue
        name = where + form
        if not isinstance(part, dict):
            raise StoreError(f"{name} must be a mapping with text and buttons")
        out: Dict[str, Any] = {"text": str(part.get("text") or "").strip()}
        buttons = part.get("buttons") or []
        if not isinstance(buttons, list):
            raise StoreError(f"{name} buttons must be a list")
        out_buttons = []
        for button in buttons:
            if not isinstance(button, dict):
                raise StoreError(f"{name}: each button needs a title and a payload")
            title, payload = str(button.get("title") or "").strip(), str(button.get("payload") or "").strip()
            if title or payload:
                out_buttons.append({"title": title, "payload": payload})
        if out_buttons:
            out["buttons"] = out_buttons
        if isinstance(part.get("custom"), dict) and part["custom"]:
            out["custom"] = part["custom"]
        clean[form] = out


def normalise(answer: Dict[str, Any]) -> Dict[str, Any]:
    """The answer with only known fields, empty buttons and custom parts dropped, and
    text stripped; raises StoreError when its shape is wrong. The Spanish version (`es`)
    is cleaned the same way; one with no text, no button and no reviewer is dropped."""
    if not isinstance(answer, dict):
        raise StoreError("an answer must be a mapping")
    clean: Dict[str, Any] = {}
    for key in ("response", "source"):
        value = answer.get(key)
        if value is not None and not isinstance(value, str):
            value = str(value)
        clean[key] = value.strip() if isinstance(value, str) and value.strip() else None
    _clean_reviews(answer, clean)
    if answer.get("sms_only"):
        clean["sms_only"] = True
    _clean_forms(answer, clean)
    spanish = answer.get("es")
    if spanish is not None:
        if not isinstance(spanish, dict):
            raise StoreError("es (the Spanish version) must be a mapping with reviewed_by, reviewed_on, web and sms")
        es: Dict[str, Any] = {}
        _clean_reviews(spanish, es)
        _clean_forms(spanish, es, "es ")
        if es["reviewed_by"] or any(
            es.get(form, {}).get("text") or es.get(form, {}).get("buttons") for form in ("web", "sms")
        ):
            clean["es"] = es
    return clean


def spanish_values(values: Dict[str, str], settings: Optional[Dict[str, Any]] = None) -> Dict[str, str]:
    """The values that fill the Spanish answers' {placeholders}: `values` (the English
    ones, or the checks' worst-case ones) with clinic.yml's Spanish words."""
    from common.settings import in_language, load_settings

    return in_language(values, load_settings() if settings is None else settings, "es")


def to_variants(
    answer: Dict[str, Any], values: Dict[str, str], values_es: Optional[Dict[str, str]] = None
) -> List[Dict[str, Any]]:
    """The answer as Rasa response variants, with clinic settings filled in: the web
    form as the default variant and the SMS form as the `channel: twilio` variant; the
    Spanish web form as a variant with the condition `language: es`, and the Spanish
    SMS form with that condition and `channel: twilio`. An SMS-only answer is a default
    variant (and its Spanish a conditional one without a channel). Rasa's templated
    generator takes a matching conditional variant for the channel first, then a default
    one for the channel, then a matching conditional one, then a default one: so a
    conversation whose `language` slot is "es" gets the Spanish form of its channel,
    any other (unset included) the English one.

    `values_es` fill the Spanish forms (common.settings.placeholders(settings, "es"));
    by default `values` with clinic.yml's Spanish words (spanish_values)."""

    def variant(form: Dict[str, Any], filling: Dict[str, str]) -> Dict[str, Any]:
        return fill({key: form[key] for key in FORM_FIELDS if form.get(key)}, filling)

    spanish = answer.get("es") or {}
    if spanish and values_es is None:
        values_es = spanish_values(values)
    if answer.get("sms_only"):
        variants = [variant(answer["sms"], values)]
        if (spanish.get("sms") or {}).get("text"):
            variants.append(dict(variant(spanish["sms"], values_es), condition=SPANISH))
        return variants
    variants = [variant(answer["web"], values)]
    if answer.get("sms"):
        variants.append(dict(variant(answer["sms"], values), channel=SMS_CHANNEL))
    web_es, sms_es = spanish.get("web") or {}, spanish.get("sms") or {}
    if web_es.get("text"):
        variants.append(dict(variant(web_es, values_es), condition=SPANISH))
    # Without its own Spanish SMS form, the Spanish web text goes by SMS too (text and
    # buttons only), so a Spanish conversation is never answered in English by SMS.
    sms_form = sms_es if sms_es.get("text") else {key: web_es[key] for key in ("text", "buttons") if key in web_es}
    if sms_form.get("text"):
        variants.append(dict(variant(sms_form, values_es), condition=SPANISH, channel=SMS_CHANNEL))
    return variants


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class ContentStore:
    """What the editor, the content service and the build need from a store."""

    def answers(self) -> Dict[str, Dict[str, Any]]:
        """Every answer by response name (a fresh copy the caller may change)."""
        raise NotImplementedError

    def version(self) -> str:
        """Changes whenever any answer changes (for caches)."""
        raise NotImplementedError

    def save(
        self,
        name: str,
        answer: Dict[str, Any],
        editor: str,
        note: str = "",
        base_version: Optional[int] = None,
        state: Optional[str] = None,
        author: Optional[str] = None,
    ) -> int:
        """Saves a version; with `state` "draft" or "rejected" (editor/signoff.py) only in
        the history, else as the live answer ("approved", or None)."""
        raise NotImplementedError

    def history(self, name: str) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def newest_entries(self) -> Dict[str, Dict[str, Any]]:
        """Each answer's newest history entry (a waiting draft, a rejection ...)."""
        raise NotImplementedError

    def version_of(self, name: str, version: int) -> Dict[str, Any]:
        raise NotImplementedError


class FileContentStore(ContentStore):
    """Answers in content/answers/**/*.yml, history in content/history/**/*.jsonl.

    Reads are cached and reloaded when any file changes, so an answer edited in
    the files (or pulled from git) is live on the next message too."""

    def __init__(self, root: Path = DEFAULT_DIR) -> None:
        self.root = Path(root)
        self.answers_dir = self.root / "answers"
        self.history_dir = self.root / "history"
        self._lock = threading.RLock()
        self._stamp: Any = None
        self._cache: Dict[str, Dict[str, Any]] = {}
        self._paths: Dict[str, Path] = {}
        self.unreadable: Dict[str, str] = {}  # answers whose file cannot be read now: the kind of error

    # --- reading -------------------------------------------------------------
    def _files(self) -> List[Path]:
        return sorted(self.answers_dir.glob("*/*.yml"))

    def _current_stamp(self) -> Any:
        stamp = []
        for path in self._files():
            info = path.stat()
            stamp.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(stamp)

    def _load(self) -> None:
        """Reads the files again when any changed. A file that can no longer be read (a
        YAML error, a wrong shape) while its answer was read before keeps that answer's
        last good version, and is listed in `unreadable` (name -> the kind of error); at
        the first read it is an error."""
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        answers, paths, unreadable = {}, {}, {}
        known = {str(path): name for name, path in self._paths.items()}
        for path in self._files():
            try:
                name, answer = self._read(path)
            except (yaml.YAMLError, StoreError) as error:
                name = known.get(str(path), "")
                if name not in self._cache:
                    raise
                answers[name], paths[name] = self._cache[name], path
                unreadable[name] = "YAML" if isinstance(error, yaml.YAMLError) else "shape"
                continue
            if name in answers:
                raise StoreError(
                    f"{path.relative_to(self.root)}: {name} is also in {paths[name].relative_to(self.root)}"
                )
            answers[name], paths[name] = answer, path
        for name in set(unreadable) - set(self.unreadable):
            logger.warning("%s: its file cannot be read (%s); its last good version stays", name, unreadable[name])
        self._cache, self._paths, self._stamp, self.unreadable = answers, paths, stamp, unreadable

    def _read(self, path: Path) -> Tuple[str, Dict[str, Any]]:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
        if not isinstance(data, dict) or not data.get("response"):
            raise StoreError(f"{path.relative_to(self.root)}: no `response:` name")
        return data["response"], normalise(data)

    def answers(self) -> Dict[str, Dict[str, Any]]:
        with self._lock:
            self._load()
            return json.loads(json.dumps(self._cache))

    def version(self) -> str:
        with self._lock:
            self._load()
            return hashlib.sha256(repr(self._stamp).encode()).hexdigest()[:16]

    def path_of(self, name: str) -> Path:
        with self._lock:
            self._load()
            if name not in self._paths:
                raise StoreError(f"there is no answer called {name}")
            return self._paths[name]

    # --- history -------------------------------------------------------------
    def _history_path(self, name: str) -> Path:
        relative = self.path_of(name).relative_to(self.answers_dir)
        return (self.history_dir / relative).with_suffix(".jsonl")

    def _read_history(self, name: str) -> List[Dict[str, Any]]:
        path = self._history_path(name)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def history(self, name: str) -> List[Dict[str, Any]]:
        """Every saved version, oldest first. When the file was changed outside the
        editor since the last save, its current text is listed as a version by
        "the files" (not yet written to the history)."""
        with self._lock:
            entries = self._read_history(name)
            current = self.answers()[name]
            live = last_live(entries)
            if not live or live["answer"] != current:
                entries.append(
                    {
                        "version": len(entries) + 1,
                        "at": None,
                        "by": "the files",
                        "note": "as in the content files",
                        "answer": current,
                        "unsaved": True,
                    }
                )
            return entries

    def newest_entries(self) -> Dict[str, Dict[str, Any]]:
        with self._lock:
            newest = {}
            for name in self.answers():
                path = self._history_path(name)
                if path.exists():
                    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
                    if lines:
                        newest[name] = json.loads(lines[-1])
            return newest

    # --- writing -------------------------------------------------------------
    def save(
        self,
        name: str,
        answer: Dict[str, Any],
        editor: str,
        note: str = "",
        base_version: Optional[int] = None,
        state: Optional[str] = None,
        author: Optional[str] = None,
    ) -> int:
        """Appends to the answer's history and, unless `state` is a draft or a rejection,
        writes the answer file; returns the new version. `base_version` is the version
        the editor started from: when somebody else saved in between, the save is
        refused instead of silently overwriting."""
        with self._lock:
            path = self.path_of(name)
            clean = normalise(dict(answer, response=name))
            entries = self._read_history(name)
            current = self.answers()[name]
            history_path = self._history_path(name)
            history_path.parent.mkdir(parents=True, exist_ok=True)
            lines = []
            live = last_live(entries)
            if not live or live["answer"] != current:
                # Keep the text that was live before this save as a version of its own.
                entries.append(
                    {
                        "version": len(entries) + 1,
                        "at": now_iso(),
                        "by": "the files",
                        "note": "as in the content files",
                        "answer": current,
                    }
                )
                lines.append(entries[-1])
            latest = entries[-1]["version"]
            if base_version is not None and base_version != latest:
                raise StoreError(
                    f"{name} was changed by {entries[-1]['by']} while you were editing "
                    f"(version {latest}); reload it and make your change again"
                )
            entry = {"version": latest + 1, "at": now_iso(), "by": editor, "note": note, "answer": clean}
            entry.update({key: value for key, value in (("state", state), ("author", author)) if value})
            lines.append(entry)
            if state not in NOT_LIVE:
                _atomic_write(path, dump_answer(clean))
            with open(history_path, "a", encoding="utf-8") as handle:
                for line in lines:
                    handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            self._stamp = None
            return entry["version"]

    def version_of(self, name: str, version: int) -> Dict[str, Any]:
        for entry in self.history(name):
            if entry["version"] == version:
                return entry["answer"]
        raise StoreError(f"{name} has no version {version}")


def _atomic_write(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


class PgContentStore(ContentStore):
    """Answers and history in PostgreSQL (common/pg.py), for every host of a deployment.

    Versions, history, rollback and the stale-save check behave as in FileContentStore.
    `version()` is one primary-key read of a counter that every save raises in the same
    transaction (so a save that commits is never hidden behind one that started later);
    `answers()` reads the table again only when that counter moved."""

    def __init__(self, engine: Any = None, seed_dir: Optional[Path] = None) -> None:
        self._engine = engine
        self.seed_dir = Path(seed_dir or os.environ.get("HSG_CONTENT_DIR") or DEFAULT_DIR)
        self._lock = threading.RLock()
        self._ready = False
        self._cache_version: Optional[int] = None
        self._cache: Dict[str, Dict[str, Any]] = {}
        self.check: Callable[[str, Dict[str, Any]], List[str]] = failed_checks  # the gate of the files' answers
        self.refused: Dict[str, List[str]] = {}  # answers of the files kept out: the checks they fail

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from common import pg

            self._engine = pg.engine()
        return self._engine

    # --- filling from the files -------------------------------------------------
    def _prepare(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self.import_missing()
                self._ready = True

    def import_missing(self) -> List[str]:
        """Adds the answers of the files that the database does not have yet (all of them
        the first time), with the files' own history if any; returns their names. An
        answer that fails its checks (`self.check`) is not added: it is listed in
        `self.refused` with the checks it fails, and logged (its name and the checks)."""
        import sqlalchemy as sa

        from common import pg

        with self.engine.begin() as connection:
            pg.lock(connection, pg.CONTENT_LOCK)
            have = {row[0] for row in connection.execute(sa.select(pg.answers.c.name))}
            try:
                files = FileContentStore(self.seed_dir)
                found = files.answers()
            except (OSError, StoreError, yaml.YAMLError):
                if not have:
                    raise
                return []  # the database is the store of record: it goes on without the files
            missing = self._checked(sorted(name for name in found if name not in have), found)
            for name in missing:
                entries = [
                    {key: entry.get(key) for key in ("version", "at", "by", "note", "answer", "state", "author")}
                    for entry in files._read_history(name)
                ]
                live = last_live(entries)
                if not live or live["answer"] != found[name]:
                    entries.append(
                        {
                            "version": (entries[-1]["version"] if entries else 0) + 1,
                            "at": now_iso(),
                            "by": "the files",
                            "note": "imported from the files",
                            "answer": found[name],
                        }
                    )
                connection.execute(
                    pg.answer_history.insert(),
                    [
                        dict(entry, name=name, answer=json.dumps(entry["answer"], ensure_ascii=False))
                        for entry in entries
                    ],
                )
                connection.execute(
                    pg.answers.insert().values(
                        name=name,
                        path=files.path_of(name).relative_to(files.answers_dir).as_posix(),
                        answer=json.dumps(found[name], ensure_ascii=False),
                        version=entries[-1]["version"],
                    )
                )
            if missing:
                self._bump(connection)
            return missing

    def _checked(self, names: List[str], found: Dict[str, Dict[str, Any]]) -> List[str]:
        """`names` without those whose answer fails its checks (kept in self.refused)."""
        passed = []
        for name in names:
            failing = self.check(name, found[name])
            if failing:
                self.refused[name] = failing
                logger.error("%s in the files fails its checks (%s): not imported", name, ", ".join(failing))
            else:
                self.refused.pop(name, None)
                passed.append(name)
        return passed

    @staticmethod
    def _bump(connection: Any) -> int:
        import sqlalchemy as sa

        return connection.execute(
            sa.text("UPDATE hsg_meta SET number = number + 1 WHERE key = 'content_version' RETURNING number")
        ).scalar_one()

    # --- reading -------------------------------------------------------------
    def _version_number(self, connection: Any) -> int:
        import sqlalchemy as sa

        return connection.execute(sa.text("SELECT number FROM hsg_meta WHERE key = 'content_version'")).scalar_one()

    def version(self) -> str:
        self._prepare()
        with self.engine.connect() as connection:
            return f"pg-{self._version_number(connection)}"

    def answers(self) -> Dict[str, Dict[str, Any]]:
        import sqlalchemy as sa

        self._prepare()
        with self._lock:
            with self.engine.connect() as connection:
                if self._version_number(connection) != self._cache_version:
                    # one statement, so the answers and the version come from the same snapshot
                    rows = connection.execute(
                        sa.text(
                            "SELECT (SELECT number FROM hsg_meta WHERE key = 'content_version'), name, answer "
                            "FROM hsg_answers"
                        )
                    ).fetchall()
                    self._cache = {name: json.loads(answer) for _, name, answer in rows}
                    self._cache_version = rows[0][0] if rows else None
            return json.loads(json.dumps(self._cache))

    def paths(self) -> Dict[str, str]:
        """Each answer's file, relative to content/answers/ (for the export)."""
        import sqlalchemy as sa

        from common import pg

        self._prepare()
        with self.engine.connect() as connection:
            return dict(connection.execute(sa.select(pg.answers.c.name, pg.answers.c.path)).fetchall())

    def history(self, name: str) -> List[Dict[str, Any]]:
        """Every saved version, oldest first."""
        import sqlalchemy as sa

        from common import pg

        self._prepare()
        table = pg.answer_history
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(*self._entry_columns()).where(table.c.name == name).order_by(table.c.version)
            ).fetchall()
        if not rows:
            raise StoreError(f"there is no answer called {name}")
        return [self._entry(row) for row in rows]

    @staticmethod
    def _entry_columns() -> List[Any]:
        from common import pg

        table = pg.answer_history
        return [table.c[key] for key in ("version", "at", "by", "note", "answer", "state", "author")]

    @staticmethod
    def _entry(row: Any) -> Dict[str, Any]:
        version, at, by, note, answer, state, author = row
        entry = {"version": version, "at": at, "by": by, "note": note, "answer": json.loads(answer)}
        entry.update({key: value for key, value in (("state", state), ("author", author)) if value})
        return entry

    def newest_entries(self) -> Dict[str, Dict[str, Any]]:
        import sqlalchemy as sa

        from common import pg

        self._prepare()
        table = pg.answer_history
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(table.c.name, *self._entry_columns())
                .distinct(table.c.name)
                .order_by(table.c.name, table.c.version.desc())
            ).fetchall()
        return {row[0]: self._entry(row[1:]) for row in rows}

    def version_of(self, name: str, version: int) -> Dict[str, Any]:
        for entry in self.history(name):
            if entry["version"] == version:
                return entry["answer"]
        raise StoreError(f"{name} has no version {version}")

    # --- writing -------------------------------------------------------------
    def save(
        self,
        name: str,
        answer: Dict[str, Any],
        editor: str,
        note: str = "",
        base_version: Optional[int] = None,
        state: Optional[str] = None,
        author: Optional[str] = None,
    ) -> int:
        """Saves the answer as its next version (live unless `state` is a draft or a
        rejection); refused (StoreError) for an unknown answer, or when `base_version`
        is not the latest (somebody else saved since)."""
        import sqlalchemy as sa

        from common import pg

        self._prepare()
        clean = normalise(dict(answer, response=name))
        extra = {key: value for key, value in (("state", state), ("author", author)) if value}
        with self.engine.begin() as connection:
            self._bump(connection)  # also takes the counter's row lock: saves go one at a time
            latest = connection.execute(
                sa.select(pg.answers.c.version).where(pg.answers.c.name == name).with_for_update()
            ).scalar()
            if latest is None:
                raise StoreError(f"there is no answer called {name}")
            if base_version is not None and base_version != latest:
                by = connection.execute(
                    sa.select(pg.answer_history.c.by).where(
                        (pg.answer_history.c.name == name) & (pg.answer_history.c.version == latest)
                    )
                ).scalar()
                raise StoreError(
                    f"{name} was changed by {by} while you were editing "
                    f"(version {latest}); reload it and make your change again"
                )
            text = json.dumps(clean, ensure_ascii=False)
            connection.execute(
                pg.answer_history.insert().values(
                    name=name, version=latest + 1, at=now_iso(), by=editor, note=note, answer=text, **extra
                )
            )
            live = {} if state in NOT_LIVE else {"answer": text}
            connection.execute(pg.answers.update().where(pg.answers.c.name == name).values(version=latest + 1, **live))
            return latest + 1


def open_store(location: Optional[str] = None) -> ContentStore:
    """With HSG_STORE=postgresql (the production profile) and no `location`, the shared
    PostgreSQL store; else the files in `location`, HSG_CONTENT_DIR, or content/."""
    if location is None:
        from common import pg

        if pg.enabled():
            return PgContentStore()
    return FileContentStore(Path(location or os.environ.get("HSG_CONTENT_DIR") or DEFAULT_DIR))


def rasa_responses(
    store: ContentStore, values: Dict[str, str], values_es: Optional[Dict[str, str]] = None
) -> Dict[str, List[Dict[str, Any]]]:
    """Every answer as Rasa domain responses, clinic settings filled in (`values_es` in
    the Spanish variants; by default `values` with clinic.yml's Spanish words)."""
    if values_es is None:
        values_es = spanish_values(values)
    return {name: to_variants(answer, values, values_es) for name, answer in sorted(store.answers().items())}
