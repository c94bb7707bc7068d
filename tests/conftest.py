# CPython 3.11.7 (gh-106905) crashes in pytest's terminal summary when hypothesis imports this
# module lazily under assertion rewriting, hiding the summary line; importing it first avoids it.
import hypothesis.internal.observability  # noqa: F401
