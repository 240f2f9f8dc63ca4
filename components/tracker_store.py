"""Rasa's SQL tracker store, hardened for restarts of the database.

Rasa's SQLTrackerStore keeps pooled connections without checking them; after a
PostgreSQL restart the first use of each stale connection fails, and that patient
gets an error. This subclass checks a connection before each use (SQLAlchemy's
pool_pre_ping), so the next message after the database is back just works. It
stores exactly what Rasa's own store does, in the same `events` table.

endpoints.yml (SQLite, the default) and endpoints.prod.yml (PostgreSQL) use it as
`type: components.tracker_store.ResilientSQLTrackerStore`.

While the database cannot be reached at all, every read or write raises
`ConversationStoreUnavailable` (components/rasa_patches.py stops Rasa from turning
that into a reply on a blank conversation): the channel asks the patient to try
again in a minute, nothing of the conversation is lost or stored twice, and the next
message after the database is back goes on where the conversation was.
"""

from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

from components import rasa_patches
from components.rasa_patches import ConversationStoreUnavailable

OUTAGE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, OSError)


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The store's outages must reach the channel, and `rasa run` builds the store
        # before it loads the model, so the loading is patched too (see rasa_patches).
        rasa_patches.apply()
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine: sa.engine.Engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        try:
            return await super().retrieve(sender_id)
        except OUTAGE as error:
            raise ConversationStoreUnavailable(type(error).__name__) from error

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except OUTAGE as error:
            raise ConversationStoreUnavailable(type(error).__name__) from error

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except OUTAGE as error:
            raise ConversationStoreUnavailable(type(error).__name__) from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Write-ahead log: readers (make purge, backups) do not block the bot, and a
    commit costs no full sync; a crash of the bot loses nothing, a power cut at most
    the last moments."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
