"""Fixtures shared by the whole suite."""

# CPython 3.11.7 (gh-106905) crashes in pytest's terminal summary when hypothesis imports this
# module lazily under assertion rewriting, hiding the summary line; importing it first avoids it.
import hypothesis.internal.observability  # noqa: F401, I001

import importlib
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The machines here have 2 shared cores: timing-based hypothesis checks (deadlines, slow data
# generation) would make runs flaky without testing anything about securebot.
settings.register_profile("securebot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("securebot")

InstallFn = Callable[..., str]


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstallFn:
    """Install a tiny distribution (real .dist-info + entry_points.txt) on sys.path.

    Returns a function ``install(dist, module, source, entry_points)`` giving the module name.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created: list[str] = []

    def install(dist: str, module: str, source: str, entry_points: dict[str, str]) -> str:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[securebot]\n{lines}\n")
        created.append(module)
        importlib.invalidate_caches()
        return module

    yield install
    for module in created:
        sys.modules.pop(module, None)
