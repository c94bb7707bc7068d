"""``scheduler``: run bot commands later, once or on an interval (Giselle's scheduler)."""

from securebot.plugins.scheduler.plugin import SchedulerPlugin

__all__ = ["SchedulerPlugin"]
