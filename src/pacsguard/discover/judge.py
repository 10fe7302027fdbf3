"""Does a value found in a de-identified file still identify someone? PS3.15's answer, once.

``verify`` and ``deid``'s leak guard both ask it, so a written file that one flags the other
flags too. The rule, in the standard's terms:

* A value of the originals is an identifier when the profile, under the options the output
  declares (its De-identification Method Code Sequence), removes or replaces it (X, Z, D, U),
  or when it is a date the options shift (C on DA/DT). What the options keep (K) or only
  clean (C on text, C on times when dates are shifted: the day moves, the clock does not) is
  not an identifier as a whole; the identifiers inside it are, by their own sources.
* Private values count when the knowledge base says ``d``, ``h`` or ``o`` for them, or, for
  private tags it does not know, when they have an identifier's form (a name, a date, an ID).
* Where a value is found matters too: an attribute the declared options keep or clean may
  hold vocabulary that an identifying attribute of the originals also held ("CT BRAIN" in a
  private tag and in Study Description). There only personal identifiers count: names, IDs,
  dates, contacts, UIDs, institutions and staff; not whole free-text, private or other values.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from pydicom.dataset import Dataset

from pacsguard.dicom.tags import CODE_VALUE, DEIDENTIFICATION_METHOD_CODE_SEQUENCE
from pacsguard.profile.actions import Action
from pacsguard.profile.options import OPTION_CODES, Option
from pacsguard.profile.private_kb import disposition
from pacsguard.profile.table import E11Rule, rule_for

__all__ = ["PERSONAL", "Source", "declared_options", "identifies", "location_keeps"]

#: Categories that identify a person wherever they are found.
PERSONAL = frozenset({"name", "id", "date", "contact", "uid", "institution-staff"})

_CODE_TO_OPTION = {code: opt for opt, (code, _) in OPTION_CODES.items()}


class Source(NamedTuple):
    """Where an indexed identifier came from in an original."""

    tag: int  #: the attribute's tag (at any depth)
    creator: str  #: private creator, "" for a standard attribute
    category: str
    vr: str
    part: bool  #: an identifier-form part of a longer value (an ID inside free text)


def declared_options(ds: Dataset) -> frozenset[Option]:
    """The PS3.15 options a de-identified dataset declares (none: the Basic Profile only)."""
    found: set[Option] = set()
    try:
        seq = ds.get(DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        items = seq.value if seq is not None and seq.VR == "SQ" else []
        for item in items or []:
            code = item.get(CODE_VALUE)
            opt = _CODE_TO_OPTION.get(str(code.value).strip()) if code is not None else None
            if opt is not None:
                found.add(opt)
    except Exception:  # a broken code sequence declares nothing: judged by the Basic Profile
        return frozenset()
    return frozenset(found)


@lru_cache(maxsize=65536)
def identifies(src: Source, options: frozenset[Option]) -> tuple[bool, str]:
    """Whether the value from ``src`` is an identifier under ``options``, and the PS3.15
    action that makes it one (``X``, ``Z``, ``D``, ``U``, ``C``, or ``private``)."""
    if src.creator:
        return True, "private"  # indexed only when the knowledge base or its form says so
    if src.part:
        return True, "C"  # an ID or a date inside text: cleaning must remove it
    rule = rule_for(src.tag)
    if rule is None:
        return True, "X" if src.vr != "UI" else "U"  # the catch-alls that indexed it
    action = rule.action(options)
    if action is Action.K:
        return False, "K"
    if action is Action.C:
        # C shifts dates (they still identify unshifted) and replaces names and UIDs; it only
        # cleans text, and keeps the time of day when dates are shifted by whole days.
        return src.vr in ("DA", "DT", "PN", "UI"), "C"
    return True, action.value


@lru_cache(maxsize=65536)
def location_keeps(pattern: str, tag: int, creator: str | None,
                   options: frozenset[Option]) -> bool:
    """True when the declared options keep or clean the attribute at ``tag`` in an output
    (and every sequence around it, read from its ``pattern`` such as
    ``(0040,0275)[*].(0032,1060)``), so that it may legitimately hold ordinary text; False
    where nothing should remain."""
    for outer in _TAG.findall(pattern)[:-1]:
        group, elem = int(outer[:4], 16), int(outer[5:], 16)
        if group % 2 == 0 and not _kept(rule_for((group << 16) | elem), options):
            return False
    if creator is not None:
        return bool(creator) and disposition(tag >> 16, creator, tag & 0xFF) == "k"
    return _kept(rule_for(tag), options)


def _kept(rule: E11Rule | None, options: frozenset[Option]) -> bool:
    return rule is None or rule.action(options) in (Action.K, Action.C)


_TAG = re.compile(r"\(([0-9A-F]{4},[0-9A-F]{4})\)")
