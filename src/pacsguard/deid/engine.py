"""Apply a policy to one dataset: every element at every depth gets exactly one action.

How an element's action is decided, first match wins:

1. a policy ``[actions]`` entry for its tag;
2. private elements: :mod:`pacsguard.deid.private`;
3. its row of PS3.15 Table E.1-1 under the active options (choices resolved by
   :func:`pacsguard.profile.actions.resolve_choice`);
4. pacsguard's supplement for attributes the table does not list (:data:`SUPPLEMENT`);
5. group rules: group lengths, and groups that identify patients or visits (0010, 0032,
   0038, 4000, 4008, and the scheduling/request ranges of 0040) are removed;
6. catch-alls by VR: person names are emptied (Z), dates follow the date options, UIDs are
   remapped (U) unless the standard defines them; elements no dictionary knows are removed;
7. otherwise the attribute is kept (K).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydicom.datadict import dictionary_has_tag, dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.multival import MultiValue

from pacsguard.deid.cache import LRU
from pacsguard.deid.dates import shift_da, shift_dt
from pacsguard.deid.dummy import TEXT_VRS, dummy_value, empty_value, fit
from pacsguard.deid.identifiers import FileIdentifiers, collect
from pacsguard.deid.keys import SecretKey
from pacsguard.deid.marking import clean_file_meta
from pacsguard.deid.private import plan_private
from pacsguard.deid.pseudonyms import Pseudonymizer
from pacsguard.deid.text import TextCleaner
from pacsguard.dicom.tags import (
    OVERLAY_DATA,
    PATIENT_BIRTH_DATE,
    PATIENT_ID,
    PATIENT_NAME,
    PERFORMED_PROCEDURE_STEP_DESCRIPTION,
    SERIES_INSTANCE_UID,
    SOP_INSTANCE_UID,
    STUDY_INSTANCE_UID,
    TEXT_VALUE,
    UNFORMATTED_TEXT_VALUE,
    is_curve_group,
    is_overlay_group,
)
from pacsguard.dicom.values import value_text
from pacsguard.profile.actions import Action
from pacsguard.profile.options import Option
from pacsguard.profile.policy import Policy
from pacsguard.profile.table import rule_for

#: Attributes Table E.1-1 does not list but that carry free text: (basic, {option: action}).
SUPPLEMENT: dict[int, tuple[Action, dict[Option, Action]]] = {
    TEXT_VALUE: (Action.D, {Option.CLEAN_STRUCTURED_CONTENT: Action.C}),
    UNFORMATTED_TEXT_VALUE: (Action.D, {Option.CLEAN_GRAPHICS: Action.C}),
    PERFORMED_PROCEDURE_STEP_DESCRIPTION: (Action.X, {Option.CLEAN_DESCRIPTORS: Action.C}),
}

_IDENTIFYING_GROUPS = frozenset({0x0010, 0x0032, 0x0038, 0x4000, 0x4008})
# Group 0040 ranges about scheduling, performed steps and requests (the table lists some).
_SCHEDULING_RANGES = ((0x0001, 0x04FF), (0x1001, 0x14FF), (0x2001, 0x24FF), (0x3001, 0x3001),
                      (0x4001, 0x4FFF))
_DATE_VRS = frozenset({"DA", "DT"})


def in_identifying_group(tag: int) -> bool:
    """True for attributes of groups that identify patients or visits (rule 5)."""
    group, elem = tag >> 16, tag & 0xFFFF
    if group in _IDENTIFYING_GROUPS:
        return True
    return group == 0x0040 and any(lo <= elem <= hi for lo, hi in _SCHEDULING_RANGES)


@dataclass
class FileContext:
    """What one file's de-identification needs besides the policy."""

    identity: str  #: the original patient identity (never leaves the process)
    pseudonym: str
    shift_days: int | None  #: None when dates are not shifted
    ids: FileIdentifiers
    cleaner: TextCleaner


@dataclass
class DeidResult:
    """The outcome for one dataset (already modified in place)."""

    dataset: Dataset
    pseudonym: str
    identity: str
    study_uid: str
    series_uid: str
    sop_uid: str
    ids: FileIdentifiers


class HeaderEngine:
    """De-identifies a dataset's header in place, deterministically for a key and a policy.

    It is one step of :class:`pacsguard.pipeline.Deidentifier` (which adds the risk gate,
    pixels, marking and the leak guard); alone it guarantees none of those."""

    def __init__(self, policy: Policy, key: SecretKey) -> None:
        self.policy = policy
        self.pseudo = Pseudonymizer(key, policy)
        self._cache: dict[tuple[int, str], Action] = {}
        self._cleaners: LRU[TextCleaner] = LRU()

    # -- deciding ---------------------------------------------------------------------
    def action_for(self, tag: int, vr: str) -> Action:
        """The action for a standard (even-group) attribute, rules 1 and 3-7."""
        key = (tag, vr)
        found = self._cache.get(key)
        if found is None:
            found = self._decide(tag, vr)
            self._cache[key] = found
        return found

    def _decide(self, tag: int, vr: str) -> Action:
        if tag >> 16 == 0x0000:
            return Action.X  # command elements have no place in a stored instance (PS3.10)
        override = self.policy.overrides.get(tag)
        if override is not None:
            return override
        opts = self.policy.options
        rule = rule_for(tag)
        if rule is not None:
            action = rule.action(opts)
            if vr == "SQ" and action is Action.Z and "X" in rule.basic.split("/"):
                return Action.X  # an empty sequence is invalid where it is Type 3; absent is not
            return action
        if tag in SUPPLEMENT:
            basic, by_option = SUPPLEMENT[tag]
            picked = [a for o, a in by_option.items() if o in opts]
            return picked[0] if picked else basic
        group, elem = tag >> 16, tag & 0xFFFF
        if elem == 0x0000 or in_identifying_group(tag) or is_curve_group(group):
            return Action.X
        if is_overlay_group(group):
            return Action.K  # settled per group in _overlays
        if vr == "PN":
            return Action.Z
        if vr in _DATE_VRS:
            if Option.RETAIN_LONGITUDINAL_FULL_DATES in opts:
                return Action.K
            return Action.C if self.policy.shifts_dates else Action.X
        if vr == "UI":
            return Action.U
        if not dictionary_has_tag(tag):
            return Action.X
        return Action.K

    # -- applying ---------------------------------------------------------------------
    def context_for(self, ds: Dataset, names: Iterable[str] = ()) -> FileContext:
        """Patient identity, pseudonym, date shift and text cleaner for one file; ``names``
        are person names found deeper in it (see :func:`collect`)."""
        pid = value_text(ds, PATIENT_ID, first=True)
        identity = pid or ("name:" + value_text(ds, PATIENT_NAME, first=True) + "|"
                           + value_text(ds, PATIENT_BIRTH_DATE, first=True))
        shift = self.pseudo.date_shift_days(identity) if self.policy.shifts_dates else None
        ids = collect(ds, institutions=not self.policy.has(Option.RETAIN_INSTITUTION_IDENTITY),
                      names=names)
        return FileContext(identity, self.pseudo.patient_pseudonym(identity), shift, ids,
                           self._cleaner(ids, shift))

    def _cleaner(self, ids: FileIdentifiers, shift: int | None) -> TextCleaner:
        # Compiling a cleaner's patterns costs more than de-identifying a small file; the files
        # of one series share identifiers, so keep the last few cleaners.
        return self._cleaners.get((ids.key(), shift), lambda: TextCleaner(ids, shift))

    def deidentify(self, ds: Dataset, ctx: FileContext | None = None) -> DeidResult:
        """De-identify ``ds``'s header in place (file meta included) and return the result;
        marking is the pipeline's next step (:func:`pacsguard.deid.marking.mark`)."""
        ctx = ctx or self.context_for(ds)
        self._overlays_and_curves(ds)
        self._clean(ds, ctx, top=True)
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            self._clean_file_meta(meta, ds)
        if isinstance(ds, FileDataset):
            ds.preamble = b"\x00" * 128  # a preamble can hold anything (TIFF hybrids)
        return DeidResult(ds, ctx.pseudonym, ctx.identity,
                          value_text(ds, STUDY_INSTANCE_UID, first=True),
                          value_text(ds, SERIES_INSTANCE_UID, first=True),
                          value_text(ds, SOP_INSTANCE_UID, first=True), ctx.ids)

    def _overlays_and_curves(self, ds: Dataset) -> None:
        # Overlay data can only be removed here (no bitmap cleaner): remove the whole group so
        # the Overlay Plane module stays valid. Curves go whole too.
        data_action = self.action_for(OVERLAY_DATA, "OW")
        groups = {t.group for t in ds.keys() if is_overlay_group(t.group) or is_curve_group(t.group)}
        for group in groups:
            if is_curve_group(group) or data_action is not Action.K:
                for tag in [t for t in ds.keys() if t.group == group]:
                    del ds[tag]

    def _clean(self, ds: Dataset, ctx: FileContext, *, top: bool = False) -> None:
        plan = plan_private(ds, self.policy) if any(t.group % 2 for t in ds.keys()) else None
        for tag in list(ds.keys()):
            # Decide on the raw element: a kept (K) value is never decoded, and pydicom then
            # writes its original bytes back as they were (fast, and byte-exact).
            raw = ds.get_item(tag)
            vr = raw.VR or _dictionary_vr(int(tag))
            if vr == "UN" and tag.group % 2 == 0:
                # A standard attribute stored as UN (a sequence, say) is judged, and decoded,
                # by its dictionary VR: kept as UN, its content would escape every rule.
                vr = _dictionary_vr(int(tag))
            if tag.group % 2 == 1:
                assert plan is not None
                if tag in plan.creators_kept:
                    continue
                action = plan.actions.get(tag, Action.X)
            else:
                action = self.action_for(int(tag), vr)
            if action is Action.X:
                del ds[tag]
            elif action is not Action.K or vr == "SQ":
                self._apply(ds, ds[tag], action, ctx, top=top and tag.group % 2 == 0)

    def _apply(self, ds: Dataset, elem: DataElement, action: Action, ctx: FileContext,
               *, top: bool) -> None:
        vr, tag = elem.VR, int(elem.tag)  # X never reaches here: _clean deletes it
        if vr == "SQ":
            if action is Action.Z:
                elem.value = []
            else:  # K, C, D, U (X/Z/U*), HASH: keep the sequence, clean every item
                for item in elem.value or []:
                    self._clean(item, ctx)
            return
        if action is Action.K or elem.value is None or elem.value == "":
            return
        if top and tag in (PATIENT_NAME, PATIENT_ID) and action in (Action.Z, Action.D, Action.C):
            elem.value = ctx.pseudonym  # Z allows a dummy value; the pseudonym is that dummy
            return
        if tag == PATIENT_ID and action in (Action.Z, Action.D, Action.C):
            self._map(elem, lambda v: self.pseudo.patient_pseudonym(v))  # nested patient IDs
            return
        if vr == "UN" and action not in (Action.Z, Action.D):
            self._apply_un(ds, elem, action, ctx)
            return
        if action is Action.Z:
            elem.value = empty_value(vr)
        elif vr == "UI" and action in (Action.U, Action.D, Action.C, Action.HASH):
            self._map(elem, self.pseudo.uid)
        elif action is Action.U or action is Action.D:
            elem.value = dummy_value(vr)
        elif action in (Action.C, Action.SHIFT) and vr in _DATE_VRS:
            self._shift(ds, elem, ctx)
        elif action is Action.C:
            if vr in TEXT_VRS:
                self._map(elem, lambda v: fit(vr, ctx.cleaner.clean(v)))
            elif vr == "PN":
                elem.value = dummy_value(vr)
            # C on numbers, codes and times keeps them: nothing identifying to clean
        elif action is Action.SHIFT:
            if vr != "TM":
                del ds[tag]
        elif action is Action.HASH:
            if vr in _DATE_VRS:
                self._shift(ds, elem, ctx)
            elif vr in TEXT_VRS or vr in ("PN", "CS", "AE"):
                self._map(elem, lambda v: fit(vr, self.pseudo.hash_text(v, 16)))
            else:
                del ds[tag]

    def _apply_un(self, ds: Dataset, elem: DataElement, action: Action, ctx: FileContext) -> None:
        # Unknown VR: the bytes can only be kept (K, decided above) or interpreted as text.
        raw = elem.value if isinstance(elem.value, bytes) else b""
        text = raw.decode("latin-1").strip("\x00 ")
        if action is Action.HASH and text:
            new = self.pseudo.hash_text(text, 16)
        elif action in (Action.SHIFT, Action.C) and ctx.shift_days is not None:
            new = shift_da(text, ctx.shift_days) or ""
        else:
            new = ""
        if not new:
            del ds[elem.tag]
            return
        data = new.encode("ascii")
        elem.value = data + b" " * (len(data) % 2)

    def _shift(self, ds: Dataset, elem: DataElement, ctx: FileContext) -> None:
        if ctx.shift_days is None:
            elem.value = empty_value(elem.VR)  # dates are not shifted in this policy: empty
            return
        days = ctx.shift_days
        fn = shift_da if elem.VR == "DA" else shift_dt
        self._map(elem, lambda v: fn(v, days) or "")

    @staticmethod
    def _map(elem: DataElement, fn: Callable[[str], str]) -> None:
        value: Any = elem.value
        if isinstance(value, MultiValue | list | tuple):
            elem.value = [fn(str(v)) for v in value]
        else:
            elem.value = fn(str(value))

    def _clean_file_meta(self, meta: Dataset, ds: Dataset) -> None:
        clean_file_meta(meta, ds, retain_uids=self.policy.has(Option.RETAIN_UIDS),
                        uid_map=self.pseudo.uid)


def _dictionary_vr(tag: int) -> str:
    # Implicit VR files carry no VR: take the dictionary's (ambiguous ones such as 'US or SS'
    # only occur on pixel-description attributes, which are kept).
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"

