"""The emulator's call log: the most recent HTTP calls, numbered from the first one ever.

A long-running emulator (``securebot emulator serve``, ``giselle demo``) answers calls for hours;
:class:`CallLog` keeps only the newest ``limit`` of them, while every call keeps its absolute
sequence number (0 for the first call ever answered). A reader remembers :attr:`CallLog.end`
and later asks :meth:`CallLog.since` for what came after: the answer is exact across the point
where old calls were dropped, and a cursor older than the oldest kept call gets what is kept.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")

#: Calls an emulator keeps unless told otherwise (``Emulator(call_log_limit=...)``).
DEFAULT_CALL_LOG_LIMIT = 10_000


class CallLog(Sequence[T]):
    """The newest ``limit`` entries appended (all of them when ``limit`` is None), in order.

    As a sequence it behaves like a list of the kept entries (``log[0]`` is the oldest kept one,
    ``log[-1]`` the newest, ``len(log) <= limit``). Sequence numbers are absolute: the n-th entry
    ever appended has number ``n - 1``, whatever was dropped since.
    """

    def __init__(self, limit: int | None = DEFAULT_CALL_LOG_LIMIT) -> None:
        """An empty log keeping at most ``limit`` entries (``None``: no limit)."""
        if limit is not None and (isinstance(limit, bool) or limit < 1):
            raise ValueError(f"a call log limit must be a positive number or None, not {limit!r}")
        self._entries: deque[T] = deque(maxlen=limit)
        self._dropped = 0

    @property
    def limit(self) -> int | None:
        """How many entries are kept at most (None: all of them)."""
        return self._entries.maxlen

    @property
    def end(self) -> int:
        """The number the next entry will get (= how many entries were ever appended)."""
        return self._dropped + len(self._entries)

    @property
    def first(self) -> int:
        """The number of the oldest kept entry (= how many were dropped; ``end`` when empty)."""
        return self._dropped

    def append(self, entry: T) -> int:
        """Add ``entry`` (dropping the oldest one when full); returns its number."""
        entries = self._entries
        if len(entries) == entries.maxlen:
            self._dropped += 1
        entries.append(entry)
        return self._dropped + len(entries) - 1

    def since(self, number: int) -> list[T]:
        """The kept entries numbered ``number`` or later, oldest first."""
        wanted = self.end - max(number, self._dropped)
        if wanted <= 0:
            return []
        newest_first = list(itertools.islice(reversed(self._entries), wanted))
        newest_first.reverse()
        return newest_first

    def clear(self) -> None:
        """Drop every kept entry (numbering goes on from :attr:`end`)."""
        self._dropped = self.end
        self._entries.clear()

    def __len__(self) -> int:
        """How many entries are kept."""
        return len(self._entries)

    def __iter__(self) -> Iterator[T]:
        """The kept entries, oldest first."""
        return iter(self._entries)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        """A kept entry by position (like a list: ``0`` oldest, ``-1`` newest), or a list."""
        if isinstance(index, slice):
            return list(self._entries)[index]
        return self._entries[index]

    def __repr__(self) -> str:
        """Counts only (entries may be large)."""
        return f"CallLog(kept={len(self)}, first={self.first}, end={self.end}, limit={self.limit})"
