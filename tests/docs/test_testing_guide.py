"""docs/testing.md works exactly as written: its plugin and tests pass in a fresh pytest run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def doc_files() -> dict[str, str]:
    """The fenced blocks marked ``file=NAME`` in the guide."""
    return dict(re.findall(r"```\w+ file=(\S+)\n(.*?)```", DOC.read_text(), re.DOTALL))


def test_the_guide_has_a_plugin_its_tests_and_the_pytest_settings() -> None:
    assert set(doc_files()) == {"shouter.py", "pyproject.toml", "test_shouter.py"}


def test_the_documented_tests_pass_against_the_emulator(tmp_path: Path) -> None:
    for name, text in doc_files().items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
    assert "0 violations" in result.stdout


def test_a_broken_plugin_makes_the_documented_tests_fail(tmp_path: Path) -> None:
    files = doc_files()
    files["shouter.py"] = files["shouter.py"].replace("text.upper()", "text")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "1 failed, 3 passed" in result.stdout
