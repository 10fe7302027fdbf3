"""One instance in, one outcome out: the chain every copy path runs.

    read -> risk gate -> header -> pixels -> mark (once) -> encode -> leak guard -> name

A file whose pixels need no work takes the streaming way through the same chain: only its
header is parsed, and its Pixel Data element stays in the input file until the sink copies it
(:class:`~pacsguard.dicom.payload.Payload`); the bytes are the same either way.

Files on disk, the gateway, a pull and a cluster worker all call :meth:`Deidentifier.process`,
so a rule is fixed in one place. It never writes anything: the caller stores ``data`` under
``name`` (a sink does it atomically) or acts on the outcome's reason code.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from pacsguard.deid.engine import HeaderEngine
from pacsguard.deid.keys import SecretKey
from pacsguard.deid.leakguard import LeakGuard, person_names
from pacsguard.deid.marking import mark
from pacsguard.dicom.payload import Payload
from pacsguard.dicom.reader import is_dicomdir, parse_dicom, read_dicom, read_dicom_split
from pacsguard.dicom.settings import pydicom_scope
from pacsguard.dicom.streaming import PixelTail
from pacsguard.dicom.tags import MODALITY, PATIENT_NAME, PIXEL_DATA
from pacsguard.dicom.values import value_text
from pacsguard.discover.risk import document_risk, embedded_overlay_groups, pixel_risk
from pacsguard.errors import FailClosed, FileRejected, NotDicom
from pacsguard.outcome import Outcome
from pacsguard.pipeline.causes import known_cause
from pacsguard.pipeline.encode import encode, output_name
from pacsguard.pipeline.pixelstep import PixelStep
from pacsguard.pipeline.result import InstanceResult
from pacsguard.profile.policy import Policy

__all__ = ["Deidentifier"]

log = logging.getLogger("pacsguard.pipeline")


class Deidentifier:
    """De-identifies one instance at a time, with every check ``pacsguard deid`` makes.

    The same policy and key give the same bytes and names on every path, in any process, in
    any order: everything is keyed, nothing is shared. :meth:`process` never raises for a bad
    instance; it returns an outcome with a reason code (fail closed).

    ``linkage``: also return the original identity and name (for an opt-in linkage table);
    ``want_thumbnails``: thumbnails of cleaned pixels for a review gallery;
    ``show_values``: keep the before-thumbnail too (it shows the original text);
    ``streaming``: leave pixel data that needs no work in the input file (same bytes; off
    only to compare the two ways).
    """

    def __init__(self, policy: Policy, key: SecretKey, *, linkage: bool = False,
                 want_thumbnails: bool = False, show_values: bool = False,
                 streaming: bool = True) -> None:
        self.policy = policy
        self.key = key
        self.linkage = linkage
        self.streaming = streaming
        self.engine = HeaderEngine(policy, key)
        self._guard = LeakGuard(policy)
        self._pixels = PixelStep(policy, want_thumbnails=want_thumbnails, show_values=show_values)

    def process(self, source: Path | bytes | Dataset, handle: str = "") -> InstanceResult:
        """De-identify one instance: a file, its bytes, or a parsed dataset (left untouched:
        the pipeline works on a copy). ``handle`` is echoed back in the result."""
        with pydicom_scope():  # tolerant and silent: pydicom's warnings quote values
            return self._process(source, handle)

    def _process(self, source: Path | bytes | Dataset, handle: str) -> InstanceResult:
        size = 0
        ds: Dataset
        try:
            if isinstance(source, Path):
                size = source.stat().st_size
                if self.streaming:
                    ds, tail, why = read_dicom_split(source, self.policy.limits)
                    if tail is not None:
                        return self._streamed(ds, source, tail, handle, size)
                    return self._chain(ds, handle, size, why)
                ds = read_dicom(source, self.policy.limits)
            elif isinstance(source, bytes | bytearray | memoryview):
                size = len(source)
                ds = parse_dicom(bytes(source), self.policy.limits)
            else:
                ds = _in_memory(source)
            return self._chain(ds, handle, size, "not-a-file")
        except FileRejected as exc:
            return InstanceResult.rejected(exc, handle, size)
        except OSError as exc:  # the file vanished or cannot be read (stat)
            return InstanceResult(Outcome.FAILED, handle, "unreadable",
                                  f"the file vanished or cannot be read ({type(exc).__name__})",
                                  bytes_in=size)
        except Exception as exc:  # fail closed on anything unexpected; no message: it may quote values
            known = known_cause(exc)
            if known:
                return InstanceResult(Outcome.QUARANTINED, handle, *known, bytes_in=size)
            log.debug("unexpected %s while de-identifying", type(exc).__name__)
            return InstanceResult(Outcome.QUARANTINED, handle, "processing-error",
                                  f"unexpected {type(exc).__name__} while de-identifying",
                                  bytes_in=size)

    def _streamed(self, ds: Dataset, source: Path, tail: PixelTail, handle: str,
                  size: int) -> InstanceResult:
        """The chain on a header whose pixel data stayed in the file; back to the whole file
        when the pixels need work after all (or the header would not end before them)."""
        try:
            return self._chain(ds, handle, size, "", (source, tail))
        except _WholeFile as exc:
            return self._chain(read_dicom(source, self.policy.limits), handle, size, exc.why)

    def _chain(self, ds: Dataset, handle: str, size: int, full_path: str,
               stream: tuple[Path, PixelTail] | None = None) -> InstanceResult:
        if isinstance(ds, FileDataset) and is_dicomdir(ds):
            raise NotDicom("dicomdir", "DICOMDIR: not copied (it names input files); --media "
                           "DIR builds a new one")
        # 1. risk gate: what header work cannot clean
        doc = document_risk(ds)
        if doc:
            raise FailClosed(*doc)
        policy = self.policy
        risk = pixel_risk(ds, policy, has_pixels=True if stream else None)
        embedded = embedded_overlay_groups(ds)
        needs_pixels = bool(risk) or bool(embedded)
        if needs_pixels and stream is not None:
            raise _WholeFile("pixel-work")
        if needs_pixels and not policy.clean_pixels:
            if risk:
                raise FailClosed(risk[0], risk[1] + "; no pixel cleaner is on (--clean-pixels)")
            raise FailClosed("overlay-in-pixel-data",
                             "an overlay is stored in the pixel data's high bits")
        # 2. header: the original is indexed first (what verify would search for)
        index = self._guard.index(ds)
        ctx = self.engine.context_for(ds, names=person_names(index))
        name = value_text(ds, PATIENT_NAME) if self.linkage else ""
        modality = value_text(ds, MODALITY).upper() if needs_pixels else ""
        pixel_ids = sorted(ctx.ids.all_strings()) if needs_pixels else []
        header = self.engine.deidentify(ds, ctx)
        # 3. pixels (modality and identifiers were read before the header step masked them)
        pixel_result = None
        if needs_pixels:
            pixel_result = self._pixels.clean(ds, modality, pixel_ids,
                                              embedded_overlays=bool(embedded))
        # 4. mark, once, now that it is known whether pixels were cleaned
        mark(ds, policy, pixels_cleaned=needs_pixels)
        # 5. the leak guard searches exactly the bytes to be written (a streamed file's pixel
        # data is not searched on either way: only the bytes around it, its element header)
        if stream is not None and any(t >= PIXEL_DATA for t in ds.keys()):
            raise _WholeFile("after-pixel-data")
        data, bulk = encode(ds)
        payload = Payload(data) if stream is None else Payload(data, str(stream[0]), stream[1])
        leak = self._guard.find(index, data, ctx.shift_days,
                                around=stream[1].around if stream else b"", written=ds, bulk=bulk)
        if leak is not None:
            raise FailClosed("residual-identifier", f"{leak.category or 'an'} identifier would "
                             f"remain at {leak.location} ({leak.kind}, from {leak.source})")
        # 6. name, from pseudonymised values only
        rel = output_name(header)
        meta = ds.file_meta
        return InstanceResult(
            Outcome.WRITTEN, handle, payload=payload, name=rel, pseudonym=header.pseudonym,
            sop_instance_uid=header.sop_uid, bytes_in=size, pixels_cleaned=needs_pixels,
            sop_class_uid=str(meta.get("MediaStorageSOPClassUID", "")),
            transfer_syntax=str(meta.get("TransferSyntaxUID", "")),
            pixel_result=pixel_result, identity=ctx.identity if self.linkage else "",
            patient_name=name, full_path=full_path)


class _WholeFile(Exception):
    """A streamed instance must take the full path after all (``why``: a reason code)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _in_memory(source: Dataset) -> Dataset:
    """A copy of a caller's dataset (never modified), with the file meta a written file
    needs: a dataset built in memory has no transfer syntax of its own yet."""
    ds = copy.deepcopy(source)
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds
