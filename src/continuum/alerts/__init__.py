"""Circuit alerts: the surveillance detectors (``continuum.surveillance``, pure) applied to
the record. Its after-store hook and run-page alert provider live in ``alerts.hooks`` and are
installed by every entry point from ``continuum.domains.HOOK_MODULES``."""
