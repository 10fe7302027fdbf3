"""A source that retrieves from a PACS: C-FIND (Study Root) for the studies, then C-MOVE to
our own listener or C-GET on the same association, each instance written durably into a
private folder (chunked receive: memory stays flat) before it is acknowledged.

Files are named by a digest of their SOP Instance UID, so a study retrieved twice leaves one
copy of each instance. A hospital PACS is production: retrieves run one at a time unless the
caller asks for more, and every wait is bounded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.uid import (
    AllTransferSyntaxes,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom import AE, _config, build_role, evt
from pynetdicom.presentation import AllStoragePresentationContexts, StoragePresentationContexts
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from pacsguard.errors import NetworkError, UsageError
from pacsguard.io.forward import AeAddress
from pacsguard.io.netopts import NODELAY
from pacsguard.io.sinks import fsync_dir

__all__ = ["Retrieved", "Retriever", "StoreListener", "parse_query", "preferred_syntaxes"]

log = logging.getLogger("pacsguard.io.retrieve")

#: Progress of one retrieve: (instances received or completed, total announced or None).
Tick = Callable[[int, int | None], None]


def parse_query(items: list[str]) -> dict[str, str]:
    """``KEYWORD=VALUE`` pairs (DICOM keywords, e.g. PatientID=123, StudyDate=20240101-)."""
    query: dict[str, str] = {}
    for item in items:
        keyword, sep, value = item.partition("=")
        if not sep:  # the item may be a value alone (a patient ID): not repeated
            raise UsageError("--query: expected KEYWORD=VALUE, e.g. PatientID=123")
        if tag_for_keyword(keyword) is None:
            raise UsageError(f"--query {keyword!r}: not a DICOM keyword, e.g. PatientID=123")
        query[keyword] = value
    return query


def preferred_syntaxes() -> list[str]:
    """Every transfer syntax, in the order an SCP should accept them: pynetdicom picks the
    first of *its* syntaxes the sender proposes. Compressed ones first, so a sender proposing
    a file's own compressed syntax sends it as it is (dcmsend would decompress it otherwise);
    then Explicit VR Little Endian, so a sender proposing several uncompressed syntaxes
    (storescu, dcmqrscp) does not re-encode: the bytes stay as the sender holds them."""
    uncompressed = [ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian,
                    ImplicitVRLittleEndian, ExplicitVRBigEndian]
    return [*(s for s in AllTransferSyntaxes if s not in uncompressed), *uncompressed]


def storage_scp_ae(ae_title: str, *, max_pdu: int, every_class: bool,
                   timeout: float = 60) -> AE:
    """An AE that accepts storage in :func:`preferred_syntaxes`: the gateway's receiver
    (``every_class``: all of pynetdicom's storage SOP classes) and pull's move destination
    (the 128 the standard's contexts allow in one association)."""
    ae = AE(ae_title=ae_title)
    ae.maximum_pdu_size = max_pdu
    ae.network_timeout = ae.acse_timeout = ae.dimse_timeout = timeout
    syntaxes = preferred_syntaxes()
    contexts = AllStoragePresentationContexts if every_class else StoragePresentationContexts
    for cx in contexts:
        if cx.abstract_syntax is not None:
            ae.add_supported_context(cx.abstract_syntax, syntaxes)
    return ae


def _store_into(folder: Path, event: Any) -> int:
    """Write one received instance into ``folder``, durably; 0xA700 when it cannot."""
    temp = Path(event.dataset_path)
    uid = str(event.request.AffectedSOPInstanceUID)
    target = folder / f"{hashlib.sha256(uid.encode()).hexdigest()[:32]}.dcm"
    try:
        with open(temp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(temp, target)
        fsync_dir(folder)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        log.error("could not store a retrieved instance (%s)", type(exc).__name__)
        return 0xA700
    return 0x0000


class StoreListener:
    """Our own C-STORE SCP, the C-MOVE destination (``--ae-title`` at the source)."""

    def __init__(self, ae_title: str, folder: Path, host: str, port: int) -> None:
        self.folder = folder
        self.received = 0
        ae = storage_scp_ae(ae_title, max_pdu=262144, every_class=False)
        server = ae.start_server((host, port), block=False,
                                 evt_handlers=[(evt.EVT_C_STORE, self._on_store), NODELAY])
        assert server is not None
        self.server = server
        self.ae = ae

    def _on_store(self, event: Any) -> int:
        status = _store_into(self.folder, event)
        if status == 0:
            self.received += 1
        return status

    def close(self) -> None:
        self.server.shutdown()


@dataclass(frozen=True)
class Retrieved:
    study_uid: str
    completed: int
    failed: int
    warning: int
    ok: bool  #: the final status said the whole study was sent
    detail: str = ""


class Retriever:
    """C-FIND then C-MOVE/C-GET against one source AE."""

    def __init__(self, source: AeAddress, ae_title: str, folder: Path, *, use_get: bool,
                 timeout: float = 60.0) -> None:
        self.source = source
        self.ae_title = ae_title
        self.folder = folder
        self.use_get = use_get
        self.timeout = timeout
        _config.STORE_RECV_CHUNKED_DATASET = True
        tempfile.tempdir = str(folder)  # received datasets land beside their final place

    def _ae(self) -> AE:
        ae = AE(ae_title=self.ae_title)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.timeout
        ae.connection_timeout = min(self.timeout, 10.0)
        ae.maximum_pdu_size = 262144
        return ae

    def _associate(self, ae: AE, **kwargs: Any) -> Any:
        kwargs["evt_handlers"] = [*kwargs.get("evt_handlers", []), NODELAY]
        assoc = ae.associate(self.source.host, self.source.port, ae_title=self.source.aet,
                             **kwargs)
        if not assoc.is_established:
            raise NetworkError(f"{self.source.aet} at {self.source.host}:{self.source.port} "
                               "refused or did not answer the association")
        return assoc

    def find_studies(self, query: dict[str, str]) -> list[str]:
        ae = self._ae()
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.StudyInstanceUID = ""
        for keyword, value in query.items():
            setattr(ds, keyword, value)
        assoc = self._associate(ae)
        studies: list[str] = []
        try:
            for status, identifier in assoc.send_c_find(
                    ds, StudyRootQueryRetrieveInformationModelFind):
                code = getattr(status, "Status", None)
                if code is None:
                    raise NetworkError("the source did not answer the C-FIND")
                if code in (0xFF00, 0xFF01) and identifier is not None:
                    uid = str(identifier.get("StudyInstanceUID", "") or "")
                    if uid and uid not in studies:
                        studies.append(uid)
                elif code != 0x0000:
                    raise NetworkError(f"the source answered the C-FIND with 0x{code:04X}")
        finally:
            assoc.release()
        return studies

    def retrieve(self, study_uid: str, tick: Tick | None = None) -> Retrieved:
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.StudyInstanceUID = study_uid
        ae = self._ae()
        if self.use_get:
            model = StudyRootQueryRetrieveInformationModelGet
            ae.add_requested_context(model)
            storage = [(cx.abstract_syntax, cx.transfer_syntax)
                       for cx in StoragePresentationContexts[:127] if cx.abstract_syntax]
            for uid, syntaxes in storage:
                ae.add_requested_context(uid, syntaxes)
            roles = [build_role(uid, scp_role=True) for uid, _ in storage]
            assoc = self._associate(ae, ext_neg=roles, evt_handlers=[
                (evt.EVT_C_STORE, lambda e: _store_into(self.folder, e))])
            responses: Iterator[tuple[Dataset, Dataset | None]] = assoc.send_c_get(ds, model)
        else:
            model = StudyRootQueryRetrieveInformationModelMove
            ae.add_requested_context(model)
            assoc = self._associate(ae)
            responses = assoc.send_c_move(ds, self.ae_title, model)
        last: Dataset | None = None
        try:
            for status, _ in responses:
                if getattr(status, "Status", None) is None:
                    return Retrieved(study_uid, 0, 0, 0, False, "no answer from the source")
                last = status
                if tick is not None and status.Status == 0xFF00:
                    done = int(status.get("NumberOfCompletedSuboperations", 0) or 0)
                    left = int(status.get("NumberOfRemainingSuboperations", 0) or 0)
                    tick(done, done + left + int(status.get("NumberOfFailedSuboperations", 0)
                                                 or 0))
        finally:
            if assoc.is_established:
                assoc.release()
        assert last is not None
        code = int(last.Status)
        completed = int(last.get("NumberOfCompletedSuboperations", 0) or 0)
        failed = int(last.get("NumberOfFailedSuboperations", 0) or 0)
        warning = int(last.get("NumberOfWarningSuboperations", 0) or 0)
        if tick is not None:
            tick(completed, completed + failed + warning)
        ok = code == 0x0000 or (code == 0xB000 and failed == 0)
        return Retrieved(study_uid, completed, failed, warning, ok,
                         "" if ok else f"final status 0x{code:04X}, {failed} failed")
