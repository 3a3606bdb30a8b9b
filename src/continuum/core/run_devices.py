"""Mechanical circulatory support devices a run has beside its circuit, as the detectors read
them (``RunSeries.devices``: group → model, e.g. ``{"impella": "CP"}``).

Core keeps the provider list; the domain that records devices (``continuum.mcs``) fills it
in its ``install_hooks`` so that surveillance (alerts) reads the devices without importing
that domain. No provider: no devices, and the detectors fall back to what they can read
from the observations alone.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

DeviceProvider = Callable[[Session, int], dict[str, str]]
DEVICE_PROVIDERS: list[DeviceProvider] = []


def add_provider(provider: DeviceProvider) -> None:
    if provider not in DEVICE_PROVIDERS:
        DEVICE_PROVIDERS.append(provider)


def devices_of(session: Session, run_id: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for provider in DEVICE_PROVIDERS:
        out.update(provider(session, run_id))
    return out
