import inspect

from securebot import errors


def test_every_error_derives_from_the_one_base() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    assert len(classes) > 5
    for cls in classes:
        assert issubclass(cls, errors.SecurebotError), cls
        assert cls.__doc__, f"{cls.__name__} needs a docstring"
