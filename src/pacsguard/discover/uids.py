"""Set-level UID checks: pairing outputs with originals, grouping, and references.

Outputs are paired with originals without any key: first by a strong fingerprint (SOP
class, modality, instance number, matrix and a hash of the pixel bytes, which
de-identification rarely changes), then, series by series, by a weak fingerprint inside the
original series most of a output series' files were paired with.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from pacsguard.discover.findings import Leak
from pacsguard.discover.records import FileRecord

__all__ = ["check_grouping", "check_references", "counts", "pair_records"]


def _series_of(r: FileRecord) -> str:
    return r.series


def _patient_of(r: FileRecord) -> str:
    return r.patient


def _study_of(r: FileRecord) -> str:
    return r.study


def _strong_of(r: FileRecord) -> tuple[str, ...]:
    return r.strong


def _weak_of(r: FileRecord) -> tuple[str, ...]:
    return r.weak


def pair_records(originals: list[FileRecord], outputs: list[FileRecord]) -> dict[str, FileRecord]:
    """Map output ``rel`` -> its original record, for every output that can be paired."""
    pairs: dict[str, FileRecord] = {}
    free = {o.rel: o for o in originals if not o.is_dicomdir}
    outs = [o for o in outputs if not o.is_dicomdir]

    def take(out: FileRecord, orig: FileRecord) -> None:
        pairs[out.rel] = orig
        free.pop(orig.rel, None)

    # A: unique strong fingerprint.
    by_strong: dict[tuple[str, ...], list[FileRecord]] = defaultdict(list)
    for o in free.values():
        if o.strong:
            by_strong[o.strong].append(o)
    out_strong = Counter(o.strong for o in outs if o.strong)
    for out in outs:
        cands = by_strong.get(out.strong, []) if out.strong else []
        if len(cands) == 1 and out_strong[out.strong] == 1:
            take(out, cands[0])

    def vote(level: Callable[[FileRecord], str]) -> dict[str, str]:
        tally: dict[str, Counter[str]] = defaultdict(Counter)
        for out in outs:
            if out.rel in pairs:
                tally[level(out)][level(pairs[out.rel])] += 1
        return {k: c.most_common(1)[0][0] for k, c in tally.items()}

    # B/C: strong, then weak fingerprint, inside the voted series, then the voted study.
    levels: tuple[Callable[[FileRecord], str], ...] = (_series_of, _study_of)
    prints: tuple[Callable[[FileRecord], tuple[str, ...]], ...] = (_strong_of, _weak_of)
    for level in levels:
        voted = vote(level)
        for fp in prints:
            for out in outs:
                if out.rel in pairs or level(out) not in voted or not fp(out):
                    continue
                target = voted[level(out)]
                for orig in sorted(free.values(), key=lambda r: r.rel):
                    if level(orig) == target and fp(orig) == fp(out):
                        take(out, orig)
                        break
    # D: unique weak fingerprint over what is left.
    by_weak: dict[tuple[str, ...], list[FileRecord]] = defaultdict(list)
    for o in free.values():
        by_weak[o.weak].append(o)
    left = [o for o in outs if o.rel not in pairs]
    out_weak = Counter(o.weak for o in left)
    for out in left:
        cands = by_weak.get(out.weak, [])
        if len(cands) == 1 and out_weak[out.weak] == 1 and cands[0].rel in free:
            take(out, cands[0])
    return pairs


def counts(records: list[FileRecord]) -> dict[str, int]:
    recs = [r for r in records if not r.is_dicomdir]
    return {
        "patients": len({r.patient for r in recs}),
        "studies": len({r.study for r in recs}),
        "series": len({r.series for r in recs}),
        "instances": len(recs),
    }


def check_grouping(pairs: dict[str, FileRecord], outputs: list[FileRecord]) -> list[Leak]:
    """Each original patient/study/series must map to exactly one output one, and back.

    A split is reported on the first file of every output group but the largest; a merge on
    the first file of every original group but the largest one merged in.
    """
    leaks: list[Leak] = []
    by_rel = {o.rel: o for o in outputs}
    levels: list[tuple[str, Callable[[FileRecord], str]]] = [
        ("patient", _patient_of), ("study", _study_of), ("series", _series_of),
    ]
    for name, key in levels:
        fwd: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        back: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for rel in sorted(pairs):
            out, orig = by_rel[rel], pairs[rel]
            fwd[key(orig)][key(out)].append(rel)
            back[key(out)][key(orig)].append(rel)
        for groups, what in ((fwd, "split"), (back, "merged")):
            for parts in groups.values():
                if len(parts) < 2:
                    continue
                ranked = sorted(parts.values(), key=lambda rels: (-len(rels), rels[0]))
                for rels in ranked[1:]:
                    detail = (f"one original {name} is split across {len(parts)} output groups"
                              if what == "split" else
                              f"{len(parts)} original {name} groups are merged into one")
                    leaks.append(Leak(path=rels[0], location=name, kind="grouping",
                                      detail=detail))
    return leaks


def check_references(
    pairs: dict[str, FileRecord],
    originals: list[FileRecord],
    outputs: list[FileRecord],
    original_uids: set[str],
) -> list[Leak]:
    """A reference that resolved among the originals must resolve among the outputs."""
    defined_in = set().union(*(r.defined_uids() for r in originals)) if originals else set()
    defined_out = set().union(*(r.defined_uids() for r in outputs)) if outputs else set()
    leaks: list[Leak] = []
    for out in outputs:
        orig = pairs.get(out.rel)
        orig_refs = dict(orig.refs) if orig is not None else {}
        for location, uid in out.refs:
            if not uid or uid in defined_out or uid in original_uids:
                continue  # resolves, or already reported as an original UID
            before = orig_refs.get(location)
            if out.is_dicomdir or (before is not None and before in defined_in):
                leaks.append(Leak(
                    path=out.rel, location=location, kind="dangling-reference", category="uid",
                    detail="reference does not resolve within the de-identified set",
                ))
    return leaks
