"""Actions of PS3.15 Table E.1-1 (D, Z, X, K, C, U), pacsguard's two extensions, and the rule
that turns the table's choices (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) into one action."""

from __future__ import annotations

from enum import StrEnum

from pacsguard.errors import PolicyError


class Action(StrEnum):
    """What happens to one attribute. Letters are the standard's."""

    D = "D"  #: replace with a non-zero-length dummy value consistent with the VR
    Z = "Z"  #: replace with a zero-length value
    X = "X"  #: remove
    K = "K"  #: keep (a sequence is kept, its items cleaned)
    C = "C"  #: clean: free text cleaned, dates shifted, sequences cleaned item by item
    U = "U"  #: replace a UID by a keyed, consistent one
    HASH = "H"  #: pacsguard: keyed hash of the value, consistent across files (policy "hash")
    SHIFT = "S"  #: pacsguard: shift dates by the patient's offset (policy "shift")


#: Policy-file spellings of actions.
POLICY_ACTIONS: dict[str, Action] = {
    "keep": Action.K,
    "remove": Action.X,
    "empty": Action.Z,
    "dummy": Action.D,
    "hash": Action.HASH,
    "shift": Action.SHIFT,
    "clean": Action.C,
    "uid": Action.U,
}


def parse_policy_action(text: object, where: str) -> Action:
    """Parse a policy-file action word (or a standard letter); ``where`` names the entry."""
    if isinstance(text, str):
        word = text.strip().lower()
        if word in POLICY_ACTIONS:
            return POLICY_ACTIONS[word]
        if word.upper() in {a.value for a in Action if len(a.value) == 1 and a.value not in "HS"}:
            return Action(word.upper())
    allowed = ", ".join(POLICY_ACTIONS)
    raise PolicyError(f"{where}: unknown action {text!r} (one of: {allowed}, or D/Z/X/K/C/U)")


def resolve_choice(code: str, in_standard_iod: bool) -> Action:
    """Turn a table cell into one action.

    Where the table leaves a choice, pick the action that keeps the output valid for every
    IOD the attribute can appear in: ``D`` when allowed (a dummy satisfies even Type 1),
    else ``Z`` (satisfies Type 2), else ``X``. Attributes that appear in no standard
    composite IOD (``in_standard_iod`` false) are removed whenever ``X`` is allowed.
    ``X/Z/U*`` (sequences of references) keeps the sequence and remaps the UIDs inside:
    that is ``U`` applied to a sequence, which the engine treats as "clean the items".
    """
    choices = code.replace("*", "").split("/")
    if len(choices) == 1:
        return Action(choices[0])
    if "U" in choices:
        return Action.U
    if not in_standard_iod and "X" in choices:
        return Action.X
    for pick in ("D", "Z", "X"):
        if pick in choices:
            return Action(pick)
    raise PolicyError(f"unresolvable table action {code!r}")  # pragma: no cover - table is fixed
