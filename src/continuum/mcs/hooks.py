"""Plugging the device record into surveillance without being imported by it: the run's
Impella model and IABP reach the detectors through ``core.run_devices``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from continuum.core import run_devices


def series_devices(session: Session, run_id: int) -> dict[str, str]:
    from continuum.mcs.service import series_devices as provide

    return provide(session, run_id)


def install_hooks() -> None:
    run_devices.add_provider(series_devices)
