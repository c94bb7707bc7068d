"""The ``giselle`` command (placeholder until the foundation lands)."""

import sys


def main() -> None:
    """Entry point of the ``giselle`` console script."""
    sys.exit("giselle: not assembled yet")
