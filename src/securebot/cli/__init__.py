"""The ``securebot`` command line (placeholder until the foundation lands)."""

import sys


def main() -> None:
    """Entry point of the ``securebot`` console script."""
    sys.exit("securebot: not assembled yet")
