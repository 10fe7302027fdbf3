"""Each patient's dates must be shifted by one consistent offset, removed, or blanked.

Unchanged dates are left to the identifier search (they are leaks of the date itself);
a date replaced by one dummy value for every location of a patient counts as removed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from pacsguard.discover.findings import Leak
from pacsguard.discover.records import FileRecord

__all__ = ["check_dates"]


def _seconds(day: dt.date, clock: dt.time | None) -> int:
    moment = dt.datetime.combine(day, clock or dt.time())
    return int((moment - _EPOCH).total_seconds())


_EPOCH = dt.datetime(1900, 1, 1)
_DAY = 86400


def check_dates(pairs: dict[str, FileRecord], outputs: list[FileRecord],
                show_values: bool = False) -> tuple[list[Leak], set[tuple[str, str]]]:
    """Dates of each original patient must move by one offset (checked per output location).

    Where both sides have a time of day (a DT, or a DA with its TM), the offset is exact to
    the second; a date alone may then differ from it by less than a day, as when a tool
    shifts date and time together and a date without time crosses midnight.

    Returns the leaks and the ``(output rel, location)`` of every date that moved by its
    patient's usual, non-zero offset: such a date may land on another original date by
    chance (one patient's shifted study date on another's real one), which is the shift at
    work, not a leak of that other date.
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
    shifted: set[tuple[str, str]] = set()
    for items in per_patient.values():
        if len({i[4] for i in items}) == 1 and len({i[5] for i in items}) > 1:
            continue  # distinct dates all replaced by one dummy date: removed in effect
        timed_offsets = Counter(i[2] for i in items if i[3])
        usual = (timed_offsets or Counter(i[2] for i in items)).most_common(1)[0][0]
        has_timed = bool(timed_offsets)
        for rel, location, off, timed, _, _ in sorted(items):
            ok = off == usual if timed or not has_timed else abs(off - usual) < _DAY
            if ok and abs(usual) >= _DAY:
                shifted.add((rel, location))
            if not ok:
                leaks.append(Leak(
                    path=rel, location=location, kind="date-shift", category="date",
                    detail="shifted by another offset than this patient's other dates",
                    value=f"{(off - usual) / _DAY:+.2f} days against the usual offset"
                    if show_values else None,
                ))
    return leaks, shifted
