"""Bad usage of the `continuum` command: exit 2, a message naming the problem, no traceback.

Run through the installed executable (a subprocess), as a user types it, for every kind of
usage error click/typer knows: a missing option, an unknown command, a value of the wrong
type, an unknown option (and a missing argument, a bad choice of a sub-command group)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONTINUUM = str(Path(sys.executable).parent / "continuum")


def continuum(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": "sqlite:///does-not-matter.db"}
    return subprocess.run(
        [CONTINUUM, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "args, names",
    [
        pytest.param(["replay", "x.csv"], ["Missing option", "--mode"], id="missing-option"),
        pytest.param(["nosuch"], ["No such command", "nosuch"], id="unknown-command"),
        pytest.param(
            ["serve", "--port", "notanumber"],
            ["Invalid value for '--port'", "integer"],
            id="bad-type",
        ),
        pytest.param(
            ["calc", "bsa", "--bogus"], ["No such option", "--bogus"], id="unknown-option"
        ),
        pytest.param(["run", "show", "abc"], ["Invalid value for 'RUN'"], id="bad-argument-type"),
        pytest.param(["user", "token"], ["Missing argument"], id="missing-argument"),
        pytest.param(
            ["db", "downgrade"], ["No such command", "downgrade"], id="unknown-subcommand"
        ),
    ],
)
def test_usage_error_exits_2_naming_the_problem(
    tmp_path: Path, args: list[str], names: list[str]
) -> None:
    result = continuum(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    for name in names:
        assert name in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert f"continuum {args[0]}" in result.stderr or "Usage: continuum" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing was created (no database touched)


def test_usage_errors_in_process_go_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    """The same handling without a subprocess: main() turns typer's errors into exit 2."""
    from continuum.cli import main

    for argv in (["replay", "x.csv"], ["nosuch"], ["serve", "--port", "x"], ["calc", "--no"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2, argv
        err = capsys.readouterr().err
        assert "Error:" in err and "Traceback" not in err, argv


def test_help_still_exits_0() -> None:
    result = continuum("--help")
    assert result.returncode == 0, result.stderr
    assert "calc" in result.stdout and "replay" in result.stdout


def test_typer_is_the_pinned_release() -> None:
    """main() relies on typer 0.29's vendored click (usage errors are TyperException);
    pyproject pins typer to that minor release."""
    from importlib.metadata import version

    major, minor = (int(x) for x in version("typer").split(".")[:2])
    assert (major, minor) == (0, 29)
