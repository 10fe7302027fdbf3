"""The public API: everything in ``__all__`` resolves, and nothing else is advertised."""

from __future__ import annotations

import pytest

import pacsguard


@pytest.mark.parametrize("name", pacsguard.__all__)
def test_every_export_resolves(name: str) -> None:
    assert getattr(pacsguard, name) is not None


def test_all_matches_the_lazy_table() -> None:
    assert sorted(pacsguard.__all__) == sorted(["__version__", *pacsguard._EXPORTS])


def test_unknown_name_raises() -> None:
    with pytest.raises(AttributeError):
        pacsguard.Deidentifer  # noqa: B018 - the misspelling is the point


def test_every_error_maps_to_an_exit_code() -> None:
    from pacsguard import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.PacsguardError)
        assert cls.exit_code in (1, 2)
