"""Shared fixtures: originals with planted identifiers, and a clean de-identified copy by the
real engine (``pacsguard deid``); defined in discover_fixtures, also used by tests/cli."""

from discover_fixtures import clean_output, originals, roles

__all__ = ["clean_output", "originals", "roles"]
