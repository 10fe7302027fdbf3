"""DICOM association checks (issue 5, checks 1-6) against one detected DICOM endpoint.

Order matters: the AE-title checks find a (called, calling) pair that gets in,
and every later check uses it. Nothing here sends image data or keeps an
identifier a peer returns: C-FIND responses are counted and dropped.
"""

from __future__ import annotations

import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from pacsguard.audit import pdu, versions
from pacsguard.audit.findings import EndpointResult, Severity, finding
from pacsguard.dicom.identity import (
    PACSGUARD_IMPLEMENTATION_CLASS_UID,
    PACSGUARD_IMPLEMENTATION_VERSION_NAME,
)
from pacsguard.dicom.tags import (
    NUMBER_OF_STUDY_RELATED_INSTANCES,
    PATIENT_ID,
    QUERY_RETRIEVE_LEVEL,
    STATUS,
    STUDY_INSTANCE_UID,
)

VERIFICATION = "1.2.840.10008.1.1"
PATIENT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_GET = "1.2.840.10008.5.1.4.1.2.2.3"
MWL_FIND = "1.2.840.10008.5.1.4.31"
STORAGE = ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.7")
NEGOTIATED = (PATIENT_FIND, STUDY_FIND, MWL_FIND, PATIENT_GET, STUDY_GET, PATIENT_MOVE,
              STUDY_MOVE, *STORAGE)

DEFAULT_AE_LIST = ("ANY-SCP", "ORTHANC", "DCM4CHEE", "PACS", "STORESCP", "DCMQRSCP",
                   "CONQUESTSRV1", "ACME_STORE", "SERVER", "AE_TITLE")


Gate = Callable[[], None]


@dataclass
class DicomOptions:
    """Knobs of the DICOM checks (from the command line)."""

    calling_ae: str = "PACSGUARD"
    ae_list: tuple[str, ...] = DEFAULT_AE_LIST
    timeout: float = 5.0
    max_results: int = 1000
    try_move_unregistered: bool = False


@dataclass
class Transport:
    """Plain TCP, or TLS with a (non-verifying, probing) client context."""

    tls: ssl.SSLContext | None = None

    def wrap(self) -> pdu.Wrapper | None:
        ctx = self.tls
        if ctx is None:
            return None
        return lambda sock: ctx.wrap_socket(sock)

    def tls_args(self, host: str) -> tuple[ssl.SSLContext, str] | None:
        # pynetdicom passes the name to wrap_socket, which rejects ''; it is not checked.
        return None if self.tls is None else (self.tls, host)


@dataclass
class _Run:
    host: str
    port: int
    opts: DicomOptions
    gate: Gate
    transport: Transport
    res: EndpointResult
    notes: list[str] = field(default_factory=list)

    def probe(self, called: str, calling: str, abstracts: tuple[str, ...]) -> pdu.Outcome:
        self.gate()
        return pdu.associate(self.host, self.port, called, calling, abstracts,
                             self.opts.timeout, self.transport.wrap())

    def add(self, check: str, evidence: str, severity: Severity | None = None) -> None:
        self.res.findings.append(finding(self.res.target, check, evidence, severity))


def random_ae(prefix: str = "PG") -> str:
    """An AE title no site has configured (random, 12 characters)."""
    return prefix + secrets.token_hex(5).upper()


def describe(outcome: pdu.Outcome) -> str:
    """One line for the evidence column: the decoded answer."""
    if outcome.kind == "rejected":
        return "A-ASSOCIATE-RJ: " + outcome.reject_text
    return f"{outcome.kind}: {outcome.detail}" if outcome.detail else outcome.kind


def audit_dicom(host: str, port: int, first: pdu.Outcome, first_called: str, opts: DicomOptions,
                gate: Gate, res: EndpointResult, transport: Transport | None = None) -> None:
    """Run checks 1-6 on an endpoint whose first A-ASSOCIATE-RQ got a DICOM answer.

    ``first`` is the answer to the sniffing probe, which proposed Verification with the
    random called AE title ``first_called`` and the configured calling AE title.
    """
    run = _Run(host, port, opts, gate, transport or Transport(), res)
    res.kind = "dicom-tls" if run.transport.tls else "dicom"
    access = _ae_checks(run, first, first_called)
    if access is None:
        return
    called, calling = access
    _echo(run, called, calling)
    nego = run.probe(called, calling, NEGOTIATED)
    if nego.kind != "accepted":
        run.add("dicom.assoc.rejected", "negotiation of query/retrieve/storage contexts: "
                + describe(nego))
        return
    ok = {NEGOTIATED[(cid - 1) // 2] for cid in nego.accepted_ids()
          if 0 < cid <= 2 * len(NEGOTIATED)}
    _negotiation_findings(run, ok, called)
    if PATIENT_FIND in ok or STUDY_FIND in ok:
        _find(run, called, calling, ok)
    if MWL_FIND in ok:
        _worklist(run, called, calling)
    if opts.try_move_unregistered and (STUDY_MOVE in ok):
        _move_unregistered(run, called, calling)


def _fingerprint(run: _Run, outcome: pdu.Outcome, via: str) -> None:
    product, version = versions.fingerprint(outcome.impl_uid, outcome.impl_version)
    run.res.product, run.res.version = product, version
    ident = (f"implementation class UID {outcome.impl_uid or '(none)'}, version name "
             f"{outcome.impl_version or '(none)'}")
    label = f"{product} {version}".strip() or "unknown product"
    run.add("dicom.service.detected", f"association accepted ({via}); {label}; {ident}")
    for sev, vuln in versions.vulnerabilities(product, version):
        run.add("version.vulnerable", vuln, Severity.parse(sev))


def _ae_checks(run: _Run, first: pdu.Outcome, random_called: str) -> tuple[str, str] | None:
    """Checks 1-2: find a (called, calling) pair that gets in, or explain the refusals."""
    opts = run.opts
    if first.kind == "accepted":
        _fingerprint(run, first, "random called AE")
        run.add("dicom.ae.called-not-enforced",
                f"a random called AE title ({random_called}) was accepted (calling AE "
                f"{opts.calling_ae}); the peer answers whatever AE title a caller uses")
        called = random_called
    else:
        refusals = [f"random called AE {random_called} -> {describe(first)}"]
        called = ""
        for ae in opts.ae_list:
            out = run.probe(ae, opts.calling_ae, (VERIFICATION,))
            if out.kind == "accepted":
                _fingerprint(run, out, f"called AE {ae}")
                run.add("dicom.ae.guessable", f"called AE title {ae!r} from the guess list "
                        f"opened the service; a random one was refused ({describe(first)})")
                called = ae
                break
            refusals.append(f"{ae} -> {describe(out)}")
            if out.kind in ("timeout", "eof", "closed", "unreachable"):
                break  # the peer stopped answering; do not hammer it
        if not called:
            check = "dicom.assoc.aborted" if first.kind == "aborted" else "dicom.assoc.rejected"
            run.add(check, "no tried AE title got in: " + "; ".join(refusals))
            run.add("dicom.service.detected", "the port answers A-ASSOCIATE-RQ in DICOM UL "
                    "(a refusal carries no implementation identity)")
            return None
    # Calling AE: PACSGUARD is unknown to the peer, but a site could have registered it.
    other = random_ae("PGC")
    out = run.probe(called, other, (VERIFICATION,))
    if out.kind == "accepted":
        run.add("dicom.ae.calling-not-enforced",
                f"random calling AE titles are accepted (called AE {called}, calling {other})")
        return called, opts.calling_ae
    run.add("dicom.assoc.rejected", f"random calling AE {other} -> {describe(out)}; "
            f"{opts.calling_ae} is registered at this peer, so later checks use it")
    return called, opts.calling_ae


def _ae(opts: DicomOptions, contexts: tuple[str, ...]) -> Any:
    from pynetdicom import AE  # imported lazily: pynetdicom is slow to import

    ae = AE(ae_title=opts.calling_ae)
    ae.implementation_class_uid = PACSGUARD_IMPLEMENTATION_CLASS_UID
    ae.implementation_version_name = PACSGUARD_IMPLEMENTATION_VERSION_NAME
    for attr in ("acse_timeout", "dimse_timeout", "network_timeout", "connection_timeout"):
        setattr(ae, attr, opts.timeout)
    for uid in contexts:
        ae.add_requested_context(uid)
    return ae


def _open(run: _Run, called: str, calling: str, contexts: tuple[str, ...]) -> Any:
    ae = _ae(run.opts, contexts)
    ae.ae_title = calling
    run.gate()
    assoc = ae.associate(run.host, run.port, ae_title=called,
                         tls_args=run.transport.tls_args(run.host))
    return assoc if assoc.is_established else None


def _echo(run: _Run, called: str, calling: str) -> None:
    assoc = _open(run, called, calling, (VERIFICATION,))
    if assoc is None:
        return
    try:
        status = assoc.send_c_echo()
        code = status.get("Status") if status is not None else None
        if code == 0:
            run.add("dicom.echo.open", f"C-ECHO success for unknown calling AE {calling}")
    finally:
        _close(assoc)


def _close(assoc: Any) -> None:
    if assoc.is_established:
        assoc.release()
    if assoc.is_established:
        assoc.abort()


def _negotiation_findings(run: _Run, ok: set[str], called: str) -> None:
    note = f"(called AE {called}; negotiation only, no request was sent)"
    get = [name for uid, name in ((PATIENT_GET, "Patient Root"), (STUDY_GET, "Study Root"))
           if uid in ok]
    move = [name for uid, name in ((PATIENT_MOVE, "Patient Root"), (STUDY_MOVE, "Study Root"))
            if uid in ok]
    store = sum(uid in ok for uid in STORAGE)
    if get:
        run.add("dicom.get.negotiated", f"C-GET accepted for {', '.join(get)} {note}")
    if move:
        run.add("dicom.move.negotiated", f"C-MOVE accepted for {', '.join(move)} {note}")
    if store:
        run.add("dicom.store.negotiated",
                f"{store} of {len(STORAGE)} storage SOP classes (CT, MR, SC) accepted {note}")


@dataclass
class Count:
    """How a bounded C-FIND went; identifiers are never kept, only these numbers."""

    matches: int = 0
    instances: int | None = None
    status: str = "success"  # success | cancelled | refused | aborted | timeout
    detail: str = ""


def count_find(assoc: Any, query: Dataset, model: str, limit: int, timeout: float) -> Count:
    """Count C-FIND matches, sending C-CANCEL once ``limit`` is reached.

    Each identifier is read for NumberOfStudyRelatedInstances only and dropped.
    """
    count, cancelled = Count(), False
    deadline = time.monotonic() + max(timeout * 4, 10.0)
    for status, ident in assoc.send_c_find(query, model, msg_id=1):
        if status is None or STATUS not in status:
            count.status, count.detail = "aborted", "association aborted or timed out"
            break
        code = int(status[STATUS].value)
        if code in (0xFF00, 0xFF01):
            if count.matches < limit:
                count.matches += 1
                if ident is not None and NUMBER_OF_STUDY_RELATED_INSTANCES in ident:
                    val = ident[NUMBER_OF_STUDY_RELATED_INSTANCES].value
                    if str(val).strip().isdigit():
                        count.instances = (count.instances or 0) + int(str(val).strip())
            del ident
            if count.matches >= limit and not cancelled:
                assoc.send_c_cancel(1, query_model=model)
                cancelled = True
        elif code == 0xFE00:
            count.status = "cancelled"
        elif code != 0:
            count.status, count.detail = "refused", f"status 0x{code:04X}"
        if time.monotonic() > deadline:  # a peer that never stops sending pendings
            count.status, count.detail = "timeout", "peer kept sending matches"
            assoc.abort()
            break
    if cancelled and count.status == "success":
        count.status = "cancelled"
    return count


def _query(level: str, *keys: Any) -> Dataset:
    ds = Dataset()
    ds[QUERY_RETRIEVE_LEVEL] = _elem(QUERY_RETRIEVE_LEVEL, "CS", level)
    for tag, vr in keys:
        ds[tag] = _elem(tag, vr, "")
    return ds


def _elem(tag: Any, vr: str, value: str) -> Any:
    from pydicom.dataelem import DataElement

    return DataElement(tag, vr, value)


def _find(run: _Run, called: str, calling: str, ok: set[str]) -> None:
    limit, results = run.opts.max_results, []
    plan = []
    if PATIENT_FIND in ok:
        plan.append(("Patient Root", PATIENT_FIND, _query("PATIENT", (PATIENT_ID, "LO"))))
    if STUDY_FIND in ok:
        plan.append(("Study Root", STUDY_FIND, _query(
            "STUDY", (STUDY_INSTANCE_UID, "UI"), (NUMBER_OF_STUDY_RELATED_INSTANCES, "IS"))))
    exp = run.res.exposure
    for name, model, query in plan:
        assoc = _open(run, called, calling, (model,))
        if assoc is None:
            results.append(f"{name}: association refused")
            continue
        try:
            got = count_find(assoc, query, model, limit, run.opts.timeout)
        finally:
            _close(assoc)
        if got.status in ("success", "cancelled"):
            cancelled = got.status == "cancelled"
            bound = f" (stopped by C-CANCEL at --max-results {limit})" if cancelled else ""
            exp.truncated = exp.truncated or got.status == "cancelled"
            if model == PATIENT_FIND:
                exp.patients = got.matches
                results.append(f"{name}: {got.matches} patients{bound}")
            else:
                exp.studies = got.matches
                exp.instances = got.instances
                inst = "unknown" if got.instances is None else str(got.instances)
                results.append(f"{name}: {got.matches} studies, {inst} instances{bound}")
        else:
            results.append(f"{name}: {got.status} {got.detail}".rstrip())
    answered = [r for r in results if "patients" in r or "studies" in r]
    text = f"calling AE {calling}, called AE {called}: " + "; ".join(results)
    if not answered:
        run.add("dicom.find.refused", text)
    elif any(n for n in (exp.patients, exp.studies) if n):
        run.add("dicom.find.anonymous", text + "; identifiers were counted, not kept")
    else:
        run.add("dicom.find.anonymous", text + " (archive empty, but queries are answered)",
                Severity.HIGH)


def _worklist(run: _Run, called: str, calling: str) -> None:
    assoc = _open(run, called, calling, (MWL_FIND,))
    if assoc is None:
        return
    query = Dataset()
    query[PATIENT_ID] = _elem(PATIENT_ID, "LO", "")
    try:
        got = count_find(assoc, query, MWL_FIND, run.opts.max_results, run.opts.timeout)
    finally:
        _close(assoc)
    if got.status in ("success", "cancelled"):
        sev = Severity.HIGH if got.matches else Severity.MEDIUM
        run.add("dicom.worklist.open",
                f"Modality Worklist C-FIND answered with {got.matches} scheduled items", sev)


def _move_unregistered(run: _Run, called: str, calling: str) -> None:
    """C-MOVE of a random, non-existent study to a random AE: nothing can actually move."""
    assoc = _open(run, called, calling, (STUDY_MOVE,))
    if assoc is None:
        return
    dest = random_ae("PGM")
    query = _query("STUDY")
    query[STUDY_INSTANCE_UID] = _elem(STUDY_INSTANCE_UID, "UI", "2.25." + str(secrets.randbits(120)))
    codes: list[int] = []
    try:
        for status, _ in assoc.send_c_move(query, dest, STUDY_MOVE, msg_id=1):
            if status is None or STATUS not in status:
                break
            codes.append(int(status[STATUS].value))
    finally:
        _close(assoc)
    final = codes[-1] if codes else None
    if final is None:
        run.add("dicom.move.unregistered-refused", f"C-MOVE to {dest}: no status (aborted)")
    elif final == 0xA801 or final >= 0xA000:
        why = "move destination unknown" if final == 0xA801 else "failure"
        run.add("dicom.move.unregistered-refused",
                f"C-MOVE to unregistered AE {dest}: 0x{final:04X} ({why})")
    elif final == 0:
        run.add("dicom.move.unregistered-accepted",
                f"C-MOVE to unregistered AE {dest} answered 0x0000 (success, nothing to move): "
                "the destination was not checked; a matching study might be sent to any AE "
                "the peer can resolve", Severity.MEDIUM)
    else:
        run.add("dicom.move.unregistered-accepted",
                f"C-MOVE to unregistered AE {dest} answered status 0x{final:04X}, not a refusal")
