"""RedisSettings never shows a password, wherever the URL carries it (userinfo or query)."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from securebot.storage.redis_client import RedisSettings

secrets_ = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="\x00\r\n"), min_size=6, max_size=30
).map(lambda s: "S3cr" + s)


@given(secrets_, st.sampled_from(["redis", "rediss", "unix"]))
def test_a_password_in_the_url_query_is_never_shown(secret: str, scheme: str) -> None:
    encoded = quote(secret, safe="")
    where = "/tmp/redis.sock" if scheme == "unix" else "cache.internal:6380/0"
    for query in (
        f"password={encoded}",
        f"db=1&password={encoded}&socket_timeout=2",
        f"ssl_password={encoded}",
    ):
        settings = RedisSettings(url=f"{scheme}://{where}?{query}")
        shown = repr(settings)
        assert secret not in shown
        assert encoded not in shown
        assert "***" in shown
        assert where.split(":")[0] in shown


@given(secrets_)
def test_a_password_in_the_userinfo_is_never_shown(secret: str) -> None:
    encoded = quote(secret, safe="")
    shown = repr(RedisSettings(url=f"redis://bot:{encoded}@cache.internal:6379/0"))
    assert encoded not in shown
    assert "cache.internal:6379" in shown
