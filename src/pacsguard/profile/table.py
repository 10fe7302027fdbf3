"""Lookups into the generated PS3.15 Table E.1-1, tag patterns included.

The table applies at every nesting level. Patterns: curves ``(50xx,xxxx)``, overlay data
``(60xx,3000)`` and comments ``(60xx,4000)`` (``xx`` ranging over the repeating groups of
:mod:`pacsguard.dicom.tags`: even, up to 1E), and private attributes ``(gggg,eeee)`` with
``gggg`` odd.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from pacsguard.dicom.tags import OVERLAY_COMMENTS, OVERLAY_DATA, is_curve_group, is_overlay_group
from pacsguard.profile._e11_table import ROWS
from pacsguard.profile.actions import Action, resolve_choice
from pacsguard.profile.options import OPTION_COLUMNS, Option


@dataclass(frozen=True)
class E11Rule:
    """One row of Table E.1-1."""

    id: str  #: the row id: 8 hex digits, or a pattern id such as ``60xx3000``
    name: str
    basic: str  #: the Basic Profile cell, e.g. ``"X/Z/D"``
    in_standard_iod: bool
    options: MappingProxyType[Option, str]  #: option -> the option's cell (``K`` or ``C``)

    def action(self, active: frozenset[Option]) -> Action:
        """The single action for this row under the ``active`` options.

        An active option that lists an action for the row overrides the Basic Profile.
        If several do, ``K`` (a retain option) wins over ``C``: the user asked to keep it,
        and every ``C`` in the table has a ``K`` counterpart only for retain options.
        """
        picked = [cell for opt, cell in self.options.items() if opt in active]
        if picked:
            return Action.K if "K" in picked else Action(picked[0])
        return resolve_choice(self.basic, self.in_standard_iod)


def _build() -> tuple[dict[int, E11Rule], dict[str, E11Rule]]:
    exact: dict[int, E11Rule] = {}
    patterns: dict[str, E11Rule] = {}
    for row_id, name, basic, in_iod, opts in ROWS:
        rule = E11Rule(
            id=row_id,
            name=name,
            basic=basic,
            in_standard_iod=in_iod,
            options=MappingProxyType({OPTION_COLUMNS[col]: cell for col, cell in opts}),
        )
        if all(c in "0123456789abcdef" for c in row_id) and len(row_id) == 8:
            exact[int(row_id, 16)] = rule
        else:
            patterns[row_id] = rule
    return exact, patterns


_EXACT, _PATTERNS = _build()
CURVE_RULE = _PATTERNS["50xxxxxx"]
OVERLAY_DATA_RULE = _PATTERNS["60xx3000"]
OVERLAY_COMMENTS_RULE = _PATTERNS["60xx4000"]
PRIVATE_RULE = _PATTERNS["ggggeeee-where-gggg-is-odd"]

#: Every row, keyed by its id (tests and the docs use it).
ALL_RULES: MappingProxyType[str, E11Rule] = MappingProxyType(
    {**{r.id: r for r in _EXACT.values()}, **_PATTERNS}
)


def rule_for(tag: int) -> E11Rule | None:
    """The Table E.1-1 row that governs ``tag``, or None if the table does not list it."""
    found = _EXACT.get(tag)
    if found is not None:
        return found
    group, elem = tag >> 16, tag & 0xFFFF
    if group % 2 == 1:
        return PRIVATE_RULE
    if is_curve_group(group):
        return CURVE_RULE
    if is_overlay_group(group):
        if elem == OVERLAY_DATA & 0xFFFF:
            return OVERLAY_DATA_RULE
        if elem == OVERLAY_COMMENTS & 0xFFFF:
            return OVERLAY_COMMENTS_RULE
    return None
