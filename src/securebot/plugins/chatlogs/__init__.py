"""``chatlogs``: ``savechat`` (encrypted chat-log exports by DM) and ``deletedm``."""

from securebot.plugins.chatlogs.plugin import ChatLogs

__all__ = ["ChatLogs"]
