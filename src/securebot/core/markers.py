"""The pluggy markers of the ``securebot`` project.

Plugins decorate hook implementations with :data:`hookimpl`; the hook specifications in
:mod:`securebot.core.hookspecs` use :data:`hookspec`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pluggy

#: The pluggy project name; every hook is called ``securebot_<something>``.
PROJECT_NAME = "securebot"

#: Marks a function in :mod:`securebot.core.hookspecs` as a hook specification.
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

#: Marks a plugin method as the implementation of the hook of the same name.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

_F = TypeVar("_F", bound=Callable[..., Any])

#: Attribute set on hook specifications whose implementations may be coroutine functions.
ASYNC_HOOK_ATTRIBUTE = "securebot_async_hook"


def async_hook(spec: _F) -> _F:
    """Mark a hook specification as asynchronous: implementations may be ``async def``.

    Hooks without this mark are synchronous, and the plugin manager refuses a coroutine
    function implementing them (it would return an un-awaited coroutine).
    """
    setattr(spec, ASYNC_HOOK_ATTRIBUTE, True)
    return spec
