"""scripts/choose_python.sh, the interpreter scripts/setup.sh builds .venv with: a statically
linked Python ≥ 3.11 before one that loads libpython as a shared library, the first one found
when none is static, CONTINUUM_PYTHON when set; a message and exit 1 when there is none. Fake
interpreters answer its three probes (version, libpython mapped, ensurepip)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "choose_python.sh"
BASH = shutil.which("bash") or "/bin/bash"


def fake(folder: Path, name: str, *, shared: bool, new_enough: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *version_info*) exit {0 if new_enough else 1} ;;\n"
        f"  */proc/self/maps*) exit {1 if shared else 0} ;;\n"
        "  *ensurepip*) exit 0 ;;\n"
        "esac\n"
        "exit 3\n"
    )
    path.chmod(0o755)
    return path


def choose(path: list[Path], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(SCRIPT)],
        env={"PATH": ":".join(str(p) for p in path), "CONTINUUM_SYSTEM_PYTHONS": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_static_python_is_chosen_before_a_shared_one_found_first(tmp_path: Path) -> None:
    fake(tmp_path / "pyenv", "python3.11", shared=True)
    static = fake(tmp_path / "system", "python3.12", shared=False)
    done = choose([tmp_path / "pyenv", tmp_path / "system"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(static)


def test_the_systems_own_python_counts_after_path(tmp_path: Path) -> None:
    fake(tmp_path / "pyenv", "python3.11", shared=True)
    system = fake(tmp_path / "usr", "python3.11", shared=False)
    done = choose([tmp_path / "pyenv"], CONTINUUM_SYSTEM_PYTHONS=str(system))
    assert done.stdout.strip() == str(system), done.stderr


def test_the_first_python_when_none_is_static(tmp_path: Path) -> None:
    first = fake(tmp_path / "a", "python3.11", shared=True)
    fake(tmp_path / "b", "python3.12", shared=True)
    done = choose([tmp_path / "a", tmp_path / "b"])
    assert done.stdout.strip() == str(first), done.stderr


def test_a_static_python_older_than_3_11_is_passed_over(tmp_path: Path) -> None:
    fake(tmp_path / "old", "python3", shared=False, new_enough=False)
    shared = fake(tmp_path / "new", "python3.11", shared=True)
    done = choose([tmp_path / "old", tmp_path / "new"])
    assert done.stdout.strip() == str(shared), done.stderr


def test_continuum_python_wins_and_is_checked(tmp_path: Path) -> None:
    fake(tmp_path / "system", "python3.11", shared=False)
    mine = fake(tmp_path / "mine", "python", shared=True)
    done = choose([tmp_path / "system"], CONTINUUM_PYTHON=str(mine))
    assert done.stdout.strip() == str(mine), done.stderr
    old = fake(tmp_path / "old", "python", shared=False, new_enough=False)
    refused = choose([tmp_path / "system"], CONTINUUM_PYTHON=str(old))
    assert refused.returncode == 1
    assert f"CONTINUUM_PYTHON={old} is not Python 3.11 or newer" in refused.stderr


def test_no_python_at_all_says_so(tmp_path: Path) -> None:
    fake(tmp_path / "old", "python3", shared=False, new_enough=False)
    done = choose([tmp_path / "old"])
    assert done.returncode == 1
    assert done.stdout == ""
    assert "needs Python 3.11 or newer" in done.stderr
