"""Exception text made safe for the log.

Exceptions often quote what a user typed. A traceback logged by securebot's loggers stays
inside the log record it belongs to: every line is indented with ``"  | "`` under the
record's message, control characters (ANSI escapes, carriage returns, Unicode line
separators...) are shown escaped, and values a record names in ``extra={SCRUB_KEY:
[...]}`` (a command's secret arguments) are replaced by ``<redacted>``. User text can neither
forge a log line nor drive the operator's terminal.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable

#: What a scrubbed value is replaced with.
REDACTED = "<redacted>"
#: The ``extra`` key naming values to scrub from a record's traceback (a secret-looking name:
#: the redacting log filter masks it too, should it ever reach a handler).
SCRUB_KEY = "securebot_scrub_secrets"


def _printable(line: str) -> str:
    if line.isprintable():
        return line
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``values`` replaced by :data:`REDACTED`."""
    for value in sorted(set(values), key=len, reverse=True):
        if value:
            text = text.replace(value, REDACTED)
    return text


def contain(text: str, values: Iterable[str] = ()) -> str:
    """``text`` (a traceback) scrubbed of ``values``, control characters escaped, each line
    indented with ``"  | "``."""
    lines = scrub(text.rstrip(), values).split("\n")
    return "\n".join(f"  | {_printable(line)}" for line in lines)


def failure_lines(error: BaseException, values: Iterable[str] = ()) -> str:
    """The contained traceback of ``error`` (see :func:`contain`), after a newline."""
    return "\n" + contain("".join(traceback.format_exception(error)), values)


class ContainTracebacks(logging.Filter):
    """A logger filter that contains each record's traceback (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's exception text in place; never drops a record."""
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info))
        values = record.__dict__.pop(SCRUB_KEY, None) or ()  # never kept on the record
        if record.exc_text and not getattr(record, "_securebot_contained", False):
            record.exc_text = contain(record.exc_text, values)
            record.exc_info = None  # formatters would re-format it from the raw exception
            record._securebot_contained = True
        return True


#: The filter securebot's loggers carry.
CONTAIN_TRACEBACKS = ContainTracebacks()


def contained_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with :data:`CONTAIN_TRACEBACKS` on it."""
    logger = logging.getLogger(name)
    if CONTAIN_TRACEBACKS not in logger.filters:
        logger.addFilter(CONTAIN_TRACEBACKS)
    return logger
