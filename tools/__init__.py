"""Maintainer tools (not part of the collection artifact): ``python -m tools.<name>`` from the repository root."""
