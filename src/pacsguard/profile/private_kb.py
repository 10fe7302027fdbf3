"""TCIA's private tag knowledge base, as Retain Safe Private uses it."""

from __future__ import annotations

from pacsguard.profile._private_kb import CREATORS, DISPOSITIONS

__all__ = ["creator_known", "disposition"]


def _key(creator: str) -> str:
    return creator.strip().lower()


def disposition(group: int, creator: str, element_low_byte: int) -> str | None:
    """``'k'`` keep, ``'d'`` delete, ``'h'`` hash, ``'o'`` offset date; None when unknown."""
    return DISPOSITIONS.get((group, _key(creator), element_low_byte & 0xFF))


def creator_known(group: int, creator: str) -> bool:
    """True when the knowledge base lists this private creator in this group."""
    return (group, _key(creator)) in CREATORS
