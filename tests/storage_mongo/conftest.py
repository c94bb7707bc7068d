"""Says plainly, at the end of every session that collected the storage tests, whether the MongoDB
contract suite ran against a real server."""

from __future__ import annotations

import os

import pytest

ENV = "SECUREBOT_TEST_MONGODB_URI"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get(ENV):
        terminalreporter.write_line(
            f"MongoDB contract suite ran against the server in {ENV} (see the [mongo] cases above)."
        )
        return
    terminalreporter.write_line(
        f"MongoDB contract suite NOT run: {ENV} unset; CI covered: sqlite, redis-cached sqlite, "
        "mongo mapping unit tests (+ query semantics on mongomock, a MOCK, not MongoDB coverage)",
        yellow=True,
        bold=True,
    )
