"""Destinations: where a service forwards de-identified instances, one batch at a time.

A destination answers each instance with a :class:`Delivery`: delivered, retry later, or
refused for good (the dead-letter folder). ``link`` failures (the destination cannot be
reached) say nothing about the instance: the caller backs off the whole destination without
counting an attempt against the instance. An instance is identified by its de-identified SOP
Instance UID, so a resend after a crash is harmless.
"""

from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pacsguard.dicom.payload import Payload
from pacsguard.errors import UsageError
from pacsguard.io.sinks import FolderSink

__all__ = ["AeAddress", "Delivery", "Destination", "FolderDestination", "Outgoing", "Verdict",
           "parse_ae_address", "parse_destination"]


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  #: the instance was refused for now (e.g. 0xA7xx out of resources)
    LINK = "link"  #: not sent: the destination could not be reached or the link broke
    PERMANENT = "permanent"  #: refused for good: dead-letter it


@dataclass(frozen=True)
class Outgoing:
    """One de-identified instance waiting for a destination (a file in the spool)."""

    key: str  #: the spool's id for it (no identifier in it)
    path: Path
    name: str  #: relative output name (pseudonyms and new UIDs only)
    sop_instance_uid: str
    sop_class_uid: str = ""
    transfer_syntax: str = ""
    study_uid: str = ""


@dataclass(frozen=True)
class Delivery:
    verdict: Verdict
    status: int | None = None  #: the DIMSE or HTTP status the destination answered
    detail: str = ""


class Destination(Protocol):
    label: str  #: how logs and /status name it (AE title, URL or folder; no identifier)

    def send(self, batch: list[Outgoing]) -> list[Delivery]:
        """Deliver a batch; one answer per instance, in order. Never raises for a failure of
        the destination."""
        ...

    def close(self) -> None:
        """Release what is held open between batches (an association)."""
        ...


@dataclass(frozen=True)
class AeAddress:
    aet: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


_AE = re.compile(r"^(?P<aet>[^@\s\\]{1,16})@(?P<host>\[[0-9A-Fa-f:.]+\]|[^:@\s]+):(?P<port>\d{1,5})$")


def parse_ae_address(text: str, what: str = "--forward") -> AeAddress:
    m = _AE.match(text)
    if not m or not 0 < int(m["port"]) < 65536:
        raise UsageError(f"{what} {text!r}: expected AET@HOST:PORT")
    return AeAddress(m["aet"], m["host"].strip("[]"), int(m["port"]))


def destination_slug(spec: str) -> str:
    """A stable folder name for a destination's queue: its spec, hashed (a reordered
    command line keeps every queue)."""
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


class FolderDestination:
    """A folder, with the same layout as ``deid`` (durable: fsync before it counts)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)
        self._sink = FolderSink(root, durable=True)
        self._prepared = False

    def send(self, batch: list[Outgoing]) -> list[Delivery]:
        out: list[Delivery] = []
        for item in batch:
            try:
                if not self._prepared:
                    self._sink.prepare()
                    self._prepared = True
                staged = self._sink.stage(item.name, Payload.of_file(item.path), item.key)
                self._sink.commit(staged, item.name)
                out.append(Delivery(Verdict.DELIVERED))
            except OSError as exc:
                out.append(Delivery(Verdict.LINK, None, f"cannot write ({exc.strerror or exc})"))
            except Exception as exc:  # OutputError from prepare: a link in the folder
                out.append(Delivery(Verdict.PERMANENT, None, str(exc)))
        return out

    def close(self) -> None:
        pass


def parse_destination(spec: str, *, calling_aet: str, tls: ssl.SSLContext | None = None) -> Destination:
    """``AET@HOST:PORT`` (C-STORE), an ``http(s)://`` DICOMweb base URL (STOW-RS) or a folder."""
    if spec.startswith(("http://", "https://")):
        from pacsguard.io.stow import StowDestination

        return StowDestination(spec, tls=tls)
    if _AE.match(spec):
        from pacsguard.io.cstore import CStoreDestination

        return CStoreDestination(parse_ae_address(spec), calling_aet=calling_aet, tls=tls)
    if "://" in spec:
        raise UsageError(f"--forward {spec!r}: only http(s):// URLs, AET@HOST:PORT or a folder")
    return FolderDestination(Path(spec))
