"""Says plainly, at the end of every session that collected the storage tests, whether the MongoDB
contract suite (records and settings, the audit and job stores, the runtime wiring) ran against a
real server."""

from __future__ import annotations

import os

import pytest

ENV = "SECUREBOT_TEST_MONGODB_URI"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get(ENV):
        terminalreporter.write_line(
            f"MongoDB contract suite ran against the server in {ENV} (see the [mongo] cases"
            " above: records, settings, audit log and job stores, runtime wiring)."
        )
        return
    terminalreporter.write_line(
        f"MongoDB contract suite NOT run: {ENV} unset (records, settings, audit log and job "
        "stores, runtime wiring: all skipped); CI covered: sqlite, redis-cached sqlite, mongo "
        "mapping unit tests incl. audit/job documents (+ query semantics of the records, audit "
        "and job stores on mongomock, a MOCK, not MongoDB coverage)",
        yellow=True,
        bold=True,
    )
