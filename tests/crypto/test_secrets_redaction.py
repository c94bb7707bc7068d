"""Secret masking and the redacting log filter: no registered or recognisable secret gets out."""

from __future__ import annotations

import copy
import io
import logging
import pickle
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.crypto import (
    REDACTED,
    RedactingFilter,
    Secret,
    install_redaction,
    redact,
    register_secret,
    unregister_secret,
)

secret_text = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=8, max_size=40
)


@contextmanager
def capturing() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("securebot.test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    with capturing() as pair:
        yield pair


def test_secret_is_masked_everywhere() -> None:
    secret = Secret("hunter2-is-my-password")
    for shown in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>30}",
        "%s" % (secret,),  # noqa: UP031
    ):
        assert "hunter2" not in shown
    assert secret.reveal() == "hunter2-is-my-password"
    assert secret == Secret("hunter2-is-my-password")
    assert secret != Secret("other-password-value")
    assert Secret(b"abc") != Secret("abc")
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        hash(secret)
    assert "hunter2-is-my-password" not in redact("x hunter2-is-my-password y")


def test_register_refuses_tiny_values() -> None:
    with pytest.raises(ValueError, match="at least"):
        register_secret("ab")


@given(secret_text, st.text(max_size=20), st.text(max_size=20))
def test_registered_secret_never_gets_through(secret: str, before: str, after: str) -> None:
    register_secret(secret)
    try:
        with capturing() as (logger, stream):
            logger.info(before + secret + after)
            logger.info("value=%s and %r", secret, {"k": before + secret})
            logger.warning("with extra", extra={"detail": secret + after})
            try:
                raise RuntimeError(f"failed with {secret}")
            except RuntimeError:
                logger.exception("boom %s", after)
            assert secret not in stream.getvalue()
            assert REDACTED in stream.getvalue()
    finally:
        unregister_secret(secret)


@pytest.mark.parametrize(
    "leak",
    [
        "https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKlMnOpQrStUvWxYz_0123456789",
        "https://canary.discordapp.com/api/v10/webhooks/1/tok_en-x",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB",
        "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
)
def test_patterns_are_redacted_unregistered(
    capture: tuple[logging.Logger, io.StringIO], leak: str
) -> None:
    logger, stream = capture
    logger.error("request to %s failed", leak)
    assert leak not in stream.getvalue()
    assert "request to [redacted]" in stream.getvalue()


def test_secret_named_extras_are_replaced(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, _ = capture
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    keep.addFilter(RedactingFilter())
    logger.addHandler(keep)
    try:
        logger.info("login", extra={"password": "pw-123456", "author": "alice", "n": 3})
    finally:
        logger.removeHandler(keep)
    assert records[0].password == REDACTED  # type: ignore[attr-defined]
    assert records[0].author == "alice"  # type: ignore[attr-defined]
    assert records[0].n == 3  # type: ignore[attr-defined]


def test_install_redaction_covers_child_loggers_and_undoes() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    register_secret("child-logger-secret")
    uninstall = install_redaction()
    try:
        assert install_redaction()() is None  # idempotent: the second call installs nothing
        logging.getLogger("some.child").info("leak child-logger-secret")
        assert "child-logger-secret" not in stream.getvalue()
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        uninstall()
        root.removeHandler(handler)
        root.setLevel(old_level)
        unregister_secret("child-logger-secret")
    assert not any(isinstance(f, RedactingFilter) for f in handler.filters)
    assert not getattr(logging.getLogRecordFactory(), "_securebot_redacting", False)


def test_broken_format_arguments_do_not_leak(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    register_secret("format-arg-secret")
    try:
        logger.info("%d", "format-arg-secret")
    finally:
        unregister_secret("format-arg-secret")
    assert "format-arg-secret" not in stream.getvalue()


token_part = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
url_part = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
discord_tokens = st.builds(
    lambda first, a, b, c: f"{first}{a}.{b}.{c}",
    st.sampled_from("MNO"),
    token_part.filter(lambda t: 23 <= len(t) <= 27),
    url_part.filter(lambda t: len(t) == 6),
    url_part.filter(lambda t: 27 <= len(t) <= 60),
)
webhooks = st.builds(
    lambda host, wid, tok: f"https://{host}/api/webhooks/{wid}/{tok}",
    st.sampled_from(["discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"]),
    st.integers(10**16, 10**19),
    url_part.filter(lambda t: len(t) >= 10),
)
separators = st.sampled_from([" ", "\n", "=", ": ", "'", '"', "(", ", "])


@given(st.one_of(discord_tokens, webhooks), separators, st.text(max_size=15))
def test_unregistered_tokens_and_webhooks_are_always_redacted(
    leak: str, separator: str, around: str
) -> None:
    with capturing() as (logger, stream):
        logger.warning("%s%s%s%s", around, separator, leak, separator)
    output = stream.getvalue()
    assert leak not in output
    secret_tail = leak.rsplit("/", 1)[-1] if "webhooks" in leak else leak.rsplit(".", 1)[-1]
    assert output.count(secret_tail) == around.count(secret_tail)


@pytest.mark.parametrize(
    "harmless",
    [
        "Bot securebot connected to 12 guilds",
        "bot restarted successfully after maintenance",
        "Bearer authentication is configured",
        "user 123456789012345678 ran !ban in channel 876543210987654321",
        "https://discord.com/channels/123/456",
    ],
)
def test_ordinary_log_lines_are_left_alone(
    capture: tuple[logging.Logger, io.StringIO], harmless: str
) -> None:
    logger, stream = capture
    logger.info(harmless)
    assert stream.getvalue() == harmless + "\n"
