"""docs/hooks.md documents every hook specification with its exact signature."""

import inspect
import re
from pathlib import Path

from securebot.core import hookspecs

DOC = Path(__file__).parents[2] / "docs" / "hooks.md"


def _specs() -> dict[str, str]:
    found = {}
    for name, func in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("securebot_"):
            params = ", ".join(inspect.signature(func).parameters)
            found[name] = f"{name}({params})"
    return found


def test_every_hookspec_has_a_docstring() -> None:
    for name in _specs():
        doc = getattr(hookspecs, name).__doc__
        assert doc, f"{name} has no docstring"
        assert len(doc.split()) >= 8, f"{name}'s docstring does not explain its contract"


def test_every_hookspec_is_documented_with_its_signature() -> None:
    headings = set(re.findall(r"^## (securebot_\w+\(.*\))\s*$", DOC.read_text(), re.MULTILINE))
    specs = set(_specs().values())
    assert specs, "no hook specifications found"
    assert specs - headings == set(), "hooks missing from docs/hooks.md (or signature differs)"
    assert headings - specs == set(), "docs/hooks.md documents hooks that do not exist"
