"""Moved to common/sms_store.py (the content service reads the opt-outs too); these names
stay importable from here for code written before the move."""

from common.sms_store import (  # noqa: F401
    CLAIM_SECONDS,
    BaseSmsStore,
    PgSmsStore,
    SmsStore,
    number_key,
    open_sms_store,
    store_path,
)
