"""Log redaction: a :class:`logging.Filter` that removes secrets from every record it sees.

:class:`RedactingFilter` rewrites a record's message (``msg`` with ``args`` merged in), its
formatted exception and stack text, and string ``extra`` attributes whose *name* looks secret
(``token``, ``password``, ``authorization``...). It removes

* every value registered with :func:`~securebot.crypto.register_secret` (and every text
  :class:`~securebot.crypto.Secret`);
* Discord bot tokens, Discord webhook URLs, ``Bearer`` authorization values, AWS access key
  ids and ``aws_secret_access_key=...`` pairs, by pattern, registered or not.

:func:`install_redaction` puts the filter where it sees every record: on the handlers of the root
logger and in the log-record factory (logger-level filters do not see records propagated from
child loggers; the factory does).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from securebot.crypto.secrets import registered_secrets, registry_version

#: What a removed secret is replaced with.
REDACTED = "[redacted]"

#: Value patterns redacted whether or not they were registered.
PATTERNS: tuple[re.Pattern[str], ...] = (
    # Discord webhook URLs (any host variant, with or without a thread/token suffix).
    re.compile(
        r"https?://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/"
        r"\d+/[\w-]+",
        re.IGNORECASE,
    ),
    # Discord bot tokens: base64 user id . timestamp . HMAC.
    re.compile(r"(?<![\w-])[MNO][\w-]{23,}\.[\w-]{6}\.[\w-]{27,}"),
    # Bearer authorization values (``Bot <token>`` is caught by the token pattern above; a bare
    # "bot" would otherwise blank out ordinary words).
    re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]{16,}", re.IGNORECASE),
    # AWS access key ids.
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    # AWS secret access keys next to their name.
    re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}"),
)

#: ``extra`` attribute names whose string values are replaced wholesale (case-insensitive).
SECRET_NAMES = re.compile(
    r"pass|secret|token|api_?key|auth(?!or)|credential|cookie|signature|private|session|pin$",
    re.IGNORECASE,
)

#: Attributes every LogRecord has; only attributes beyond these are ``extra`` fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

_compiled_lock = threading.Lock()
_compiled: tuple[int, re.Pattern[str] | None] = (-1, None)


def _registered_pattern() -> re.Pattern[str] | None:
    global _compiled
    if _compiled[0] == registry_version():
        return _compiled[1]
    with _compiled_lock:
        version, values = registered_secrets()
        pattern = None
        if values:
            ordered = sorted(values, key=len, reverse=True)
            pattern = re.compile("|".join(re.escape(v) for v in ordered))
        _compiled = (version, pattern)
        return pattern


def redact(text: str) -> str:
    """``text`` with every registered secret and every known secret pattern replaced."""
    pattern = _registered_pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for known in PATTERNS:
        text = known.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no registered or recognisable secret survives; never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place and let it through."""
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Redact ``record``'s message, args, exception and stack text and secret-named extras."""
    if not getattr(record, "_securebot_redacted", False):
        rewrite_record_text(record, redact)
        record._securebot_redacted = True
    # ``extra`` fields are set after the record factory ran: always look at them.
    for name, value in list(vars(record).items()):
        if name in _STANDARD or name.startswith("_"):
            continue
        if SECRET_NAMES.search(name) and value is not None:
            setattr(record, name, REDACTED)
        elif isinstance(value, str):
            setattr(record, name, redact(value))


def rewrite_record_text(record: logging.LogRecord, transform: Callable[[str], str]) -> None:
    """Apply ``transform`` to every text ``record`` will print: the formatted message (its
    arguments folded in, so none escapes), the exception text and the stack text.

    The exception is kept as text only, so formatters cannot print it again untransformed.
    """
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string must not leak its arguments
        message = f"{record.msg!s} (unformattable arguments)"
    record.msg = transform(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = transform(record.exc_text)
        # Formatters re-format exc_info when exc_text is empty; keep only the rewritten text.
        record.exc_info = None
    if record.stack_info:
        record.stack_info = transform(record.stack_info)


def install_redaction(logger: logging.Logger | None = None) -> Callable[[], None]:
    """Redact every record: root handlers (or ``logger``'s) plus the log-record factory.

    Idempotent. Returns a function that undoes exactly what this call installed. Handlers added
    to the logger later are still covered through the record factory.
    """
    target = logger if logger is not None else logging.getLogger()
    undo: list[Callable[[], None]] = []
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            flt = RedactingFilter()
            handler.addFilter(flt)
            undo.append(lambda h=handler, f=flt: h.removeFilter(f))  # type: ignore[misc]
    previous = logging.getLogRecordFactory()
    if not getattr(previous, "_securebot_redacting", False):

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        factory._securebot_redacting = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
        undo.append(lambda: logging.setLogRecordFactory(previous))

    def uninstall() -> None:
        for step in reversed(undo):
            step()

    return uninstall
