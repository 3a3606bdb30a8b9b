"""The repository documents itself: the clinical reference and the contracts live in docs/,
every citation in the code resolves to a section that exists, nothing points at files a
person who clones the project does not have, and the vocabulary table in docs/contracts.md
is the one the code uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from continuum.vocabulary import CODES

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "clinical" / "reference.md"
CONTRACTS = ROOT / "docs" / "contracts.md"
SCANNED = ("src", "tests", "benchmarks", "scripts", "docs")
SUFFIXES = {".py", ".md", ".html", ".sh", ".txt", ".toml", ".cfg", ".ini"}


def _repo_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for top in SCANNED:
        files += [
            p
            for p in (ROOT / top).rglob("*")
            if p.is_file() and p.suffix in SUFFIXES and "egg-info" not in p.as_posix()
        ]
    return files


def _sections(doc: Path) -> set[str]:
    found: set[str] = set()
    for line in doc.read_text().splitlines():
        m = re.match(r"#{2,3} (\d+[a-z]?)(?:\.(\d+))?[. ]", line)
        if m:
            found.add(m.group(1) if m.group(2) is None else f"{m.group(1)}.{m.group(2)}")
    return found


def _vocabulary_table() -> str:
    def number(x: float) -> str:
        return f"{x:g}".replace("-", "−")

    rows = [
        "| code | unit | meaning | plausible range | LOINC |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in CODES.values():
        rows.append(
            f"| `{c.code}` | {c.unit} | {c.meaning} | {number(c.low)} to {number(c.high)} "
            f"| {c.loinc or ''} |"
        )
    return "\n".join(rows)


def test_the_vocabulary_table_in_the_contracts_is_the_one_the_code_uses() -> None:
    text = CONTRACTS.read_text()
    block = text.split("<!-- vocabulary:begin -->\n", 1)[1].split("\n<!-- vocabulary:end -->")[0]
    assert block == _vocabulary_table(), (
        "docs/contracts.md §1 differs from continuum.vocabulary.CODES: replace the block "
        "between the vocabulary markers with tests.test_docs._vocabulary_table()"
    )


OUTSIDE = re.compile(
    r"/work/|\.\./shared|shared/clinical|data-standards\.md|quality-and-registry\.md"
    r"|(?<![\w/])(?:reference|contracts|glossary|product|architecture)\.md"
)


def test_nothing_points_at_files_outside_the_repository() -> None:
    offenders = []
    for path in _repo_files():
        if path == Path(__file__).resolve():
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not offenders, "cite docs/clinical/reference.md or docs/contracts.md:\n" + "\n".join(
        offenders
    )


CITATION = re.compile(
    r"(docs/clinical/reference\.md|docs/contracts\.md)`? ((?:[§,–\- ]*§?\d+[a-z]?(?:\.\d+)?)+)"
)


@pytest.mark.parametrize("doc", [REFERENCE, CONTRACTS], ids=["reference", "contracts"])
def test_every_cited_section_exists(doc: Path) -> None:
    sections = _sections(doc)
    name = doc.relative_to(ROOT).as_posix()
    missing = []
    cited = 0
    for path in _repo_files():
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for m in CITATION.finditer(line):
                if m.group(1) != name:
                    continue
                for number in re.findall(r"\d+[a-z]?(?:\.\d+)?", m.group(2)):
                    cited += 1
                    if number not in sections:
                        missing.append(f"{path.relative_to(ROOT)}:{n}: §{number}")
    assert cited, f"nothing cites {name}"
    assert not missing, f"sections cited but not in {name}:\n" + "\n".join(missing)


def test_every_docs_path_named_in_the_code_exists() -> None:
    missing = []
    for path in _repo_files():
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for m in re.finditer(r"docs/[\w./-]+\.md", line):
                if not (ROOT / m.group(0)).exists():
                    missing.append(f"{path.relative_to(ROOT)}:{n}: {m.group(0)}")
    assert not missing, "\n".join(missing)
