"""Private attributes: remove them, or (Retain Safe Private) follow TCIA's knowledge base.

Without Retain Safe Private every private element goes, creators included. With it, each
element is looked up by (group, private creator, element byte): ``k`` keep, ``d`` delete,
``h`` hash, ``o`` shift the date; anything the knowledge base does not list is deleted, and a
creator the knowledge base does not know loses its whole block. A policy ``[private]`` entry
for a creator overrides the knowledge base for that creator's whole block. Illegal groups
(0001, 0003, 0005, 0007, FFFF) and orphan elements with no creator are always removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from pacsguard.profile.actions import Action
from pacsguard.profile.options import Option
from pacsguard.profile.policy import Policy
from pacsguard.profile.private_kb import creator_known, disposition

_ILLEGAL_GROUPS = frozenset({0x0001, 0x0003, 0x0005, 0x0007, 0xFFFF})
_KB_ACTIONS = {"k": Action.K, "d": Action.X, "h": Action.HASH, "o": Action.SHIFT}


@dataclass(frozen=True)
class PrivatePlan:
    """What to do with each private element of one dataset level."""

    actions: dict[BaseTag, Action]  #: data elements (not creators)
    creators_kept: frozenset[BaseTag]  #: creator elements to keep


def _creator_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value or "").strip().strip("\x00").strip()


def plan_private(ds: Dataset, policy: Policy) -> PrivatePlan:
    """Decide the action for every private element at this level of ``ds`` (no recursion)."""
    retain = policy.has(Option.RETAIN_SAFE_PRIVATE)
    creators: dict[tuple[int, int], str] = {}
    private_tags = [t for t in ds.keys() if t.group % 2 == 1]
    for tag in private_tags:
        if 0x0010 <= tag.element <= 0x00FF and tag.group not in _ILLEGAL_GROUPS:
            creators[(tag.group, tag.element)] = _creator_text(ds[tag].value)
    actions: dict[BaseTag, Action] = {}
    used_blocks: set[tuple[int, int]] = set()
    for tag in private_tags:
        if tag.element <= 0x00FF:
            continue  # creators (and group lengths / reserved) are settled below
        block = (tag.group, tag.element >> 8)
        creator = creators.get(block)
        if tag.group in _ILLEGAL_GROUPS or not creator:
            actions[tag] = Action.X
            continue
        override = policy.private_overrides.get(creator.lower())
        if override is not None:
            action = override
        elif not retain or not creator_known(tag.group, creator):
            action = Action.X
        else:
            action = _KB_ACTIONS.get(disposition(tag.group, creator, tag.element) or "d", Action.X)
            if action is Action.SHIFT and not policy.shifts_dates:
                keep_full = policy.has(Option.RETAIN_LONGITUDINAL_FULL_DATES)
                action = Action.K if keep_full else Action.X
        actions[tag] = action
        if action is not Action.X:
            used_blocks.add(block)
    kept = frozenset(
        BaseTag(g << 16 | e) for (g, e) in creators if (g, e) in used_blocks
    )
    for tag in private_tags:
        if tag.element <= 0x00FF and tag not in kept:
            actions[tag] = Action.X
    return PrivatePlan(actions=actions, creators_kept=kept)
