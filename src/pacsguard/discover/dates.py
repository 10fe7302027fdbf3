"""Each patient's dates must be shifted by one consistent offset, removed, or blanked.

Unchanged dates are left to the identifier search (they are leaks of the date itself);
a date replaced by one dummy value for every location of a patient counts as removed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from pydicom.dataset import Dataset

from pacsguard.discover.elements import text_values, walk
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.discover.records import FileRecord

__all__ = ["check_dates", "shift_explains", "shifted_locations"]


def _seconds(day: dt.date, clock: dt.time | None) -> int:
    moment = dt.datetime.combine(day, clock or dt.time())
    return int((moment - _EPOCH).total_seconds())


_EPOCH = dt.datetime(1900, 1, 1)
_DAY = 86400


def check_dates(pairs: dict[str, FileRecord], outputs: list[FileRecord],
                show_values: bool = False) -> tuple[list[Leak], dict[str, int]]:
    """Dates of each original patient must move by one offset (checked per output location).

    Where both sides have a time of day (a DT, or a DA with its TM), the offset is exact to
    the second; a date alone may then differ from it by less than a day, as when a tool
    shifts date and time together and a date without time crosses midnight.

    Returns the leaks and, for every paired output whose patient's dates moved by a usual
    offset of a day or more, that offset in whole days (see :func:`shift_explains`).
    """
    by_rel = {o.rel: o for o in outputs}
    per_patient: dict[str, list[tuple[str, str, int, bool, str, dt.date]]] = defaultdict(list)
    for rel, orig in pairs.items():
        out = by_rel[rel]
        for location, (day0, t0) in orig.dates.items():
            after = out.dates.get(location)
            if after is None or after[0] == day0:
                continue  # removed, or unchanged (an unchanged date is the search's business)
            day1, t1 = after
            timed = t0 is not None and t1 is not None
            off = _seconds(day1, t1 if timed else None) - _seconds(day0, t0 if timed else None)
            per_patient[orig.patient].append((rel, location, off, timed, day1.isoformat(), day0))
    leaks: list[Leak] = []
    usual_days: dict[str, int] = {}
    for items in per_patient.values():
        if len({i[4] for i in items}) == 1 and len({i[5] for i in items}) > 1:
            continue  # distinct dates all replaced by one dummy date: removed in effect
        timed_offsets = Counter(i[2] for i in items if i[3])
        usual = (timed_offsets or Counter(i[2] for i in items)).most_common(1)[0][0]
        has_timed = bool(timed_offsets)
        if abs(usual) >= _DAY:
            usual_days.update((i[0], round(usual / _DAY)) for i in items)
        for rel, location, off, timed, _, _ in sorted(items):
            ok = off == usual if timed or not has_timed else abs(off - usual) < _DAY
            if not ok:
                leaks.append(Leak(
                    path=rel, location=location, kind="date-shift", category="date",
                    detail="shifted by another offset than this patient's other dates",
                    value=f"{(off - usual) / _DAY:+.2f} days against the usual offset"
                    if show_values else None,
                ))
    return leaks, usual_days


def shift_explains(date: str, days: int, original_dates: set[str]) -> bool:
    """Is ``date`` (YYYYMMDD) an original date moved by ``days``?

    A keyed shift lands one patient's date on another original date now and then (a study
    date on another patient's real one, a date in a report on someone's creation date).
    Found in an output of a patient whose dates moved by ``days``, such a date is the shift
    at work, not a leak of that other date.
    """
    try:
        day = dt.date(int(date[:4]), int(date[4:6]), int(date[6:8]))
        source = day - dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return False
    return f"{source.year:04d}{source.month:02d}{source.day:02d}" in original_dates


def shifted_locations(ds: Dataset, locations: set[str], index: IdentifierIndex, days: int
                      ) -> set[str]:
    """Those of ``locations`` in ``ds`` where every original date found is an original date
    moved by ``days`` (:func:`shift_explains`): the shift at work, not a leak. The dates are
    read again there: leaks carry no values unless asked."""
    originals = {i.value for i in index.info.values() if i.category == "date"}
    explained: set[str] = set()
    for el in walk(ds):
        if el.location not in locations or el.elem is None:
            continue
        keys = {k for text in text_values(el.elem) for k in index.matcher.keys_in_text(text)}
        found = {info.value for k in keys
                 if (info := index.lookup(k)) is not None and info.category == "date"}
        if found and all(shift_explains(d, days, originals) for d in found):
            explained.add(el.location)
    return explained
