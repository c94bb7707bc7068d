"""The public face: a sorted, complete ``__all__`` of documented names."""

import inspect

import securebot


def test_all_is_sorted_and_unique() -> None:
    assert securebot.__all__ == sorted(set(securebot.__all__))


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(securebot).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public - set(securebot.__all__) == set()
    missing = [name for name in securebot.__all__ if not hasattr(securebot, name)]
    assert missing == []


def test_every_exported_name_is_documented() -> None:
    undocumented = [
        name
        for name in securebot.__all__
        if name != "__version__" and not inspect.getdoc(getattr(securebot, name))
    ]
    assert undocumented == []
