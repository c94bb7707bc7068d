"""Dependency direction of DESIGN.md §2, checked on every import statement (local ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "securebot"
GISELLE = Path(__file__).parents[2] / "examples" / "giselle" / "src"

#: Which top-level layers each layer may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "crypto": {"errors"},
    "core": {"crypto", "errors"},
    "storage": {"core", "crypto", "errors"},
    "exports": {"core", "crypto", "errors"},
    "gateway": {"exports", "core", "crypto", "errors"},
    "testing": {"core", "storage", "crypto", "errors"},
}
#: Composition roots may import anything.
ROOTS = {"cli", "runtime", "__init__", "__main__"}


def _layer(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(("securebot", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if module == "securebot":
                found.extend((node.lineno, f"securebot.{a.name}") for a in node.names)
    return found


def _plugin_import_problem(path: Path, parts: list[str]) -> str:
    """Plugins import the public faces only (``securebot``, ``securebot.<package>``)."""
    own = path.relative_to(SRC).parts[1]
    target = parts[1]
    if target == "plugins":
        return "" if len(parts) > 2 and parts[2] == own else "plugins never import each other"
    if target in PLUGIN_FACES and len(parts) == 2:
        return ""
    return "plugins use public faces only"


#: Packages whose ``__init__`` is a public face plugins may import.
PLUGIN_FACES = {"errors", "crypto", "exports", "storage"}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_follow_the_dependency_direction(path: Path) -> None:
    layer = _layer(path)
    if layer in ROOTS:
        return
    problems = []
    for line, module in _imports(path):
        parts = module.split(".")
        if parts[0] != "securebot" or len(parts) == 1:
            continue
        target = parts[1]
        if target == layer and layer != "plugins":
            continue
        if layer == "plugins":
            problem = _plugin_import_problem(path, parts)
            if problem:
                problems.append(f"line {line}: {module} ({problem})")
            continue
        if target not in ALLOWED.get(layer, set()):
            problems.append(f"line {line}: {layer} -> {target} ({module})")
    assert problems == []


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = SRC / "core" / "__sample_forbidden.py"
    sample.write_text("from securebot.storage import sqlite\n")
    try:
        bad = [m for _, m in _imports(sample) if m.startswith("securebot.storage")]
        assert bad == ["securebot.storage"]
        assert "storage" not in ALLOWED["core"]
    finally:
        sample.unlink()
