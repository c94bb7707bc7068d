"""Testing kit shipped to plugin authors: a local Discord and the tools around it.

- :mod:`securebot.testing.emulator`: the Discord emulator (HTTP API v10 + gateway) and its
  scenario API; its package docstring is the guide.
- :mod:`securebot.testing.harness`: run a discord.py client or a securebot ``Bot`` against an
  emulator (``running``, ``securebot_bot``).
- :mod:`securebot.testing.pytest_plugin`: pytest fixtures (``emulator``, ``discord_guild``,
  ``securebot_bot``...), registered through the ``pytest11`` entry point.
- :mod:`securebot.testing.console`: ``securebot console`` (chat with a bot in a terminal).

Nothing is imported here, so loading the pytest plugin stays cheap.
"""
