"""Integration settings as a settings group: how long the ingest message log is kept.
Governed by the integration administrator (``MANAGE_INTEGRATION``), not by clinical leads."""

from __future__ import annotations

from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "integration"
RETENTION = "message_log_days"
RETENTION_KEY = "ingest.message_log_days"
RETENTION_DEFAULT = 90
RETENTION_LOW, RETENTION_HIGH = 1, 3650
RETENTION_SOURCE = (
    "[U] programme default (no published source): long enough to answer questions about a "
    "feed; a resent control id is recognised only while its log row is kept"
)

SETTINGS = SettingGroup(
    name=GROUP,
    title="Integration settings",
    description=(
        "Device and EHR feeds: how long the ingest message log is kept. Older rows are "
        "deleted by the daily housekeeping and `continuum ingest prune`; observations are "
        "never deleted."
    ),
    change=Permission.MANAGE_INTEGRATION,
    view=(),
    settings=(
        Setting(
            RETENTION,
            "Keep the ingest message log for",
            RETENTION_DEFAULT,
            RETENTION_LOW,
            RETENTION_HIGH,
            "days",
            RETENTION_SOURCE,
            kind="integer",
            store_key=RETENTION_KEY,
        ),
    ),
    after_save="The next prune uses the new retention.",
    order=90,
)
