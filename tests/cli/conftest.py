"""The scan and verify commands run on the discover fixtures: originals with planted
identifiers, and a clean de-identified copy (defined in discover_fixtures)."""

from discover_fixtures import clean_output, originals, roles

__all__ = ["clean_output", "originals", "roles"]
