"""One Implementation Class UID: in every file deid writes and in the audit's requests."""

from __future__ import annotations

import re
import uuid

from pacsguard.audit import pdu
from pacsguard.deid.engine import HeaderEngine
from pacsguard.deid.keys import SecretKey
from pacsguard.dicom.identity import (
    PACSGUARD_IMPLEMENTATION_CLASS_UID,
    PACSGUARD_IMPLEMENTATION_VERSION_NAME,
)
from pacsguard.profile import Policy
from pacsguard.samples import PATIENTS, identifying_dataset


def test_the_uid_is_the_one_written_so_far() -> None:
    fixed = uuid.UUID("a3c5e1d2-7b4f-4c1e-9a8d-5f6e7a8b9c0d")
    assert f"2.25.{fixed.int}" == PACSGUARD_IMPLEMENTATION_CLASS_UID
    assert re.fullmatch(r"2\.25\.[1-9]\d*", PACSGUARD_IMPLEMENTATION_CLASS_UID)
    assert len(PACSGUARD_IMPLEMENTATION_CLASS_UID) <= 64
    assert re.fullmatch(r"PACSGUARD_\d{1,6}", PACSGUARD_IMPLEMENTATION_VERSION_NAME)


def test_files_and_audit_name_the_same_implementation(key: SecretKey) -> None:
    ds = identifying_dataset(PATIENTS[0], "CT", size=(8, 8))
    ds.file_meta.ImplementationClassUID = "1.2.3.4"
    engine = HeaderEngine(Policy(), key)
    out = engine.deidentify(ds, engine.context_for(ds)).dataset
    assert out.file_meta.ImplementationClassUID == PACSGUARD_IMPLEMENTATION_CLASS_UID
    assert out.file_meta.ImplementationVersionName == PACSGUARD_IMPLEMENTATION_VERSION_NAME
    raw = pdu.build_associate_rq("PEER", "PACSGUARD", ("1.2.840.10008.1.1",))
    assert PACSGUARD_IMPLEMENTATION_CLASS_UID.encode() in raw
    assert PACSGUARD_IMPLEMENTATION_VERSION_NAME.encode() in raw
