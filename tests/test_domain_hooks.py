"""Every entry point installs every domain's cross-domain hooks from the manifest
(continuum.domains.HOOK_MODULES), without relying on something importing models_all."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

# Runs in a fresh interpreter where importing continuum.models_all fails, so nothing can
# lean on it; prints which hook lists hold which domain's hooks after ENTRY ran.
PROBE = """
import sys
from importlib.abc import MetaPathFinder

class NoModelsAll(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "continuum.models_all":
            raise ImportError("models_all must not be needed")
        return None

sys.meta_path.insert(0, NoModelsAll())
url = sys.argv[1]

def installed():
    from continuum.core import observation_service, run_view
    lists = {
        "after_store": observation_service.AFTER_STORE_HOOKS,
        "alert_providers": run_view.ALERT_PROVIDERS,
        "alert_reviewers": run_view.ALERT_REVIEWERS,
        "follow_up_providers": run_view.FOLLOW_UP_PROVIDERS,
    }
    return {k: sorted(f"{f.__module__}.{f.__name__}" for f in v) for k, v in lists.items()}

before = installed()
ENTRY
print(repr((before, installed())))
"""

ENTRIES = {
    "app": """
from continuum.app import create_app
from continuum.config import Settings
create_app(Settings(database_url=url, secret_key="s" * 40, evaluator_interval_s=0,
                    housekeeping_interval_h=0))
""",
    "alerts worker": """
from continuum.alerts.due import DueEvaluator
from continuum.db import make_engine, make_sessionmaker
DueEvaluator(make_sessionmaker(make_engine(url)))
""",
    "mllp listener": """
from continuum.db import make_engine, make_sessionmaker
from continuum.ingest.mllp_listener import MllpListener
MllpListener(make_sessionmaker(make_engine(url)))
""",
    "mqtt subscriber": """
from continuum.db import make_engine, make_sessionmaker
from continuum.ingest.mqtt_bridge import MqttIngest
MqttIngest(make_sessionmaker(make_engine(url)))
""",
    "cli": """
from continuum import cli
cli._sessions()
""",
}

EXPECTED = {
    "after_store": ["continuum.alerts.hooks.evaluate_after_store"],
    "alert_providers": ["continuum.alerts.hooks.open_alerts"],
    "alert_reviewers": ["continuum.alerts.hooks.review_alerts"],
    "follow_up_providers": ["continuum.weaning.hooks.open_follow_ups"],
}


def probe(entry: str, url: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    code = PROBE.replace("ENTRY", ENTRIES[entry])
    result = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_entry_point_installs_every_domains_hooks(entry: str, tmp_path: Path) -> None:
    before, after = probe(entry, f"sqlite:///{tmp_path / 'hooks.db'}")
    assert before == {k: [] for k in EXPECTED}  # nothing installed by merely starting
    assert after == EXPECTED  # each once, from every domain in the manifest


def test_every_hook_module_in_the_manifest_installs_idempotently() -> None:
    import importlib

    from continuum.core import observation_service, run_view
    from continuum.domains import HOOK_MODULES
    from continuum.hooks import install_all_hooks

    assert all(callable(importlib.import_module(m).install_hooks) for m in HOOK_MODULES)
    install_all_hooks()
    lists = (
        observation_service.AFTER_STORE_HOOKS,
        run_view.ALERT_PROVIDERS,
        run_view.ALERT_REVIEWERS,
        run_view.FOLLOW_UP_PROVIDERS,
    )
    sizes = [len(x) for x in lists]
    install_all_hooks()
    assert [len(x) for x in lists] == sizes
    assert all(len(set(x)) == len(x) for x in lists)
