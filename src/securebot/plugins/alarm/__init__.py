"""``alarm``: reminders and repeating messages (Giselle's alarms and reminders)."""

from securebot.plugins.alarm.plugin import Alarm

__all__ = ["Alarm"]
