"""A deliberately open DICOM server for demos and tests: ``python -m pacsguard.audit.openpeer``.

It listens on 127.0.0.1 only, accepts any AE title, and answers C-ECHO and
C-FIND (Patient Root and Study Root) with a few synthetic, obviously fake
patients. It stores nothing and has no real data.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from pydicom.dataset import Dataset

from pacsguard.dicom.tags import QUERY_RETRIEVE_LEVEL

# Synthetic and obviously fake: (patient name, patient id, [(study uid suffix, instances)]).
FAKE_PATIENTS = (
    ("FAKE^ALPHA", "FAKE-0001", ((1, 3), (2, 5))),
    ("FAKE^BRAVO", "FAKE-0002", ((3, 4),)),
    ("FAKE^CHARLIE", "FAKE-0003", ((4, 2), (5, 1), (6, 7))),
)
ROOT = "2.25.1470000000000000000000000000"
VERIFICATION = "1.2.840.10008.1.1"
PATIENT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def expected_counts() -> tuple[int, int, int]:
    """(patients, studies, instances) the server discloses."""
    studies = [s for _, _, ss in FAKE_PATIENTS for s in ss]
    return len(FAKE_PATIENTS), len(studies), sum(n for _, n in studies)


def _matches(level: str) -> Iterator[Dataset]:
    for name, pid, studies in FAKE_PATIENTS:
        if level == "PATIENT":
            ds = Dataset()
            ds.QueryRetrieveLevel = "PATIENT"
            ds.PatientName, ds.PatientID = name, pid
            yield ds
            continue
        for suffix, count in studies:
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.PatientName, ds.PatientID = name, pid
            ds.StudyInstanceUID = f"{ROOT}.{suffix}"
            ds.NumberOfStudyRelatedInstances = count
            yield ds


def _on_find(event: Any) -> Iterator[tuple[int, Dataset | None]]:
    query = event.identifier
    level = str(query[QUERY_RETRIEVE_LEVEL].value) if QUERY_RETRIEVE_LEVEL in query else ""
    if level not in ("PATIENT", "STUDY"):
        yield 0xC000, None
        return
    for ds in _matches(level):
        if event.is_cancelled:
            yield 0xFE00, None
            return
        yield 0xFF00, ds
    yield 0x0000, None


def make_ae() -> Any:
    """The open SCP's Application Entity (any AE title, echo + find)."""
    from pynetdicom import AE, evt

    ae = AE(ae_title="OPENPEER")
    ae.require_called_aet = False
    ae.require_calling_aet = []
    for uid in (VERIFICATION, PATIENT_FIND, STUDY_FIND):
        ae.add_supported_context(uid)
    return ae, [(evt.EVT_C_FIND, _on_find)]


def serve(port: int, host: str = "127.0.0.1", block: bool = True) -> Any:
    """Start the server; with ``block=False`` return the server (call ``.shutdown()``)."""
    ae, handlers = make_ae()
    return ae.start_server((host, port), block=block, evt_handlers=handlers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pacsguard.audit.openpeer",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1",
                        help="loopback address to listen on (127.x.y.z only)")
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("the open peer only listens on loopback (127.0.0.0/8)")
    server = serve(args.port, args.host, block=False)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    print(f"openpeer: listening on {args.host}:{args.port}", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
