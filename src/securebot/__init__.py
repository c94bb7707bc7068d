"""securebot: a library for building secure Discord bots."""

__all__: list[str] = []
