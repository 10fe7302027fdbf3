"""Object stores (``s3://``, ``gs://``, ``az://``) as a source and a sink, through fsspec.

Each store's package is an extra (``pacsguard[s3]``, ``[gs]``, ``[az]``) and its standard
credential chain is used (environment, config files, instance roles): no credential is ever
stored in these objects, so they pickle to workers safely and each worker resolves its own.
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) points ``s3://`` at MinIO, Ceph or moto.

The sink writes each finished instance with one PUT at its final key: an object store makes
one PUT atomic (an object is whole or absent), so no reader ever sees a partial object and
no second request (copy, delete) is spent per instance. ``commit`` then has nothing to move;
the coordinator still decides, and records, which input owns a name (:attr:`in_place`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pacsguard.dicom.payload import Payload
from pacsguard.errors import InputError, OutputError, UsageError

__all__ = ["ObjectSink", "ObjectSource", "is_url", "split_url"]

#: URL schemes and the extra that brings each one's fsspec package.
SCHEMES = {"s3": "s3", "gs": "gs", "gcs": "gs", "az": "az", "abfs": "az"}

#: Stamps already handed out, kept a little longer (the coordinator may ask twice).
RECENT_STAMPS = 4096


def is_url(text: str) -> bool:
    """``s3://...``, ``gs://...``, ``az://...`` (not a local path)."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


def split_url(url: str) -> tuple[str, str]:
    """(scheme, bucket/prefix without trailing slash)."""
    scheme, _, rest = url.partition("://")
    rest = rest.strip("/")
    if not rest:
        raise UsageError(f"{scheme}:// needs a bucket: {scheme}://BUCKET/PREFIX")
    return scheme.lower(), rest


def _options(scheme: str) -> dict[str, Any]:
    """Storage options read once, in the coordinator (workers get the same endpoint)."""
    opts: dict[str, Any] = {"use_listings_cache": False}  # a listing is streamed, never cached
    if scheme == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            opts["endpoint_url"] = endpoint
    return opts


class _Store:
    """One store root; the fsspec instance is made lazily in each process (never pickled:
    an async client's loop does not survive a fork or a trip to another machine)."""

    def __init__(self, url: str) -> None:
        self.scheme, self.root = split_url(url)
        self.options = _options(self.scheme)
        self._fs: Any = None
        self._pid = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_fs"], state["_pid"] = None, 0
        return state

    @property
    def fs(self) -> Any:
        if self._fs is None or self._pid != os.getpid():
            try:
                import fsspec
                self._fs = fsspec.filesystem(self.scheme, **self.options)
            except ImportError as exc:
                extra = SCHEMES[self.scheme]
                raise UsageError(f"{self.scheme}:// needs its fsspec package: "
                                 f"pip install 'pacsguard[{extra}]'") from exc
            self._pid = os.getpid()
        return self._fs

    def url(self, key: str) -> str:
        return f"{self.scheme}://{key}"


class ObjectSource:
    """Every object under one or more ``scheme://bucket/prefix`` URLs, streamed.

    A handle is the object's URL. ``s3://`` is listed flat, one page (1,000 keys) at a time,
    in key order; other stores one "folder" at a time, sorted. Keys ending in ``/`` (folder
    markers) are not instances.
    """

    def __init__(self, urls: list[str]) -> None:
        self.stores = [_Store(u) for u in urls]
        # Stamps from the listing, for handles listed but not yet asked for: the executor
        # pulls handles only as it has room for them, so this holds the files in flight, never
        # the listing. Asked-for stamps move to a short LRU.
        self._stamps: dict[str, tuple[int, int]] = {}
        self._recent: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_stamps"], state["_recent"] = {}, OrderedDict()  # they stay in the coordinator
        return state

    def check(self) -> None:
        for n, store in enumerate(self.stores, 1):
            try:
                found = store.fs.exists(store.root)
            except OSError as exc:
                raise InputError(f"input #{n} of {len(self.stores)} cannot be listed "
                                 f"({type(exc).__name__})") from exc
            if not found:
                raise InputError(f"input #{n} of {len(self.stores)} does not exist")

    def handles(self) -> Iterator[str]:
        for n, store in enumerate(self.stores, 1):
            try:
                yield from self._listed(store)
            except OSError as exc:  # after the store client's own retries
                raise InputError(f"listing input #{n} of {len(self.stores)} failed "
                                 f"({type(exc).__name__}); rerun the same command to resume") from exc

    def _listed(self, store: _Store) -> Iterator[str]:
        entries = _s3_pages(store) if store.scheme == "s3" else _walk(store.fs, store.root)
        for info in entries:
            name = str(info["name"])
            if name.endswith("/") or info.get("type") == "directory":
                continue
            handle = store.url(name)
            self._stamps[handle] = _stamp(info)
            yield handle

    def _store(self, handle: str) -> _Store:
        scheme = handle.partition("://")[0].lower()
        for store in self.stores:
            if store.scheme == scheme:
                return store
        raise InputError("a handle of another store")

    def load(self, handle: str) -> bytes:
        store = self._store(handle)
        data: bytes = store.fs.cat_file(handle.partition("://")[2])
        return data

    def stamp(self, handle: str) -> tuple[int, int] | None:
        cached = self._stamps.pop(handle, None) or self._recent.get(handle)
        if cached is not None:
            self._recent[handle] = cached
            if len(self._recent) > RECENT_STAMPS:
                self._recent.popitem(last=False)
            return cached
        store = self._store(handle)  # not listed by this process: one HEAD
        try:
            info = store.fs.info(handle.partition("://")[2])
        except Exception:  # gone or unreachable, whatever the store client raises
            return None
        return _stamp(info)


class ObjectSink:
    """Instances stored as objects under ``scheme://bucket/prefix/<name>``, one PUT each."""

    in_place = True  #: stage writes the final object (atomic); commit has nothing to move

    def __init__(self, url: str) -> None:
        self.store = _Store(url)

    @property
    def url(self) -> str:
        return self.store.url(self.store.root)

    def _key(self, name: str) -> str:
        return f"{self.store.root}/{name}"

    def prepare(self) -> None:
        probe = self._key(f".pacsguard-write-test-{os.getpid()}")
        try:
            self.store.fs.pipe_file(probe, b"")
            self.store.fs.rm_file(probe)
        except (OSError, ValueError) as exc:  # bucket missing, access denied, endpoint down
            raise OutputError(f"cannot write to {self.url} ({type(exc).__name__})") from exc

    def stage(self, name: str, payload: Payload, handle: str) -> str:
        self.store.fs.pipe_file(self._key(name), payload.read())  # one PUT of the whole object
        return name

    def commit(self, staged: str, name: str) -> None:
        """Nothing to move: the PUT made the object visible whole."""

    def discard(self, staged: str) -> None:
        """Nothing to remove: the name's owner rewrites it (the runner sees to that)."""

    def exists(self, name: str) -> bool:
        return bool(self.store.fs.exists(self._key(name)))

    def put(self, name: str, data: bytes) -> None:
        """A file the run leaves beside the instances (its summary)."""
        self.store.fs.pipe_file(self._key(name), data)


def _s3_pages(store: _Store) -> Iterator[dict[str, Any]]:
    """A flat listing, pulled one page at a time from s3fs's async lister (fsspec's own
    ``find`` builds the whole list in memory)."""
    from fsspec.asyn import sync

    fs = store.fs
    bucket, _, prefix = store.root.partition("/")
    agen = fs._iterdir(bucket, delimiter="", prefix=f"{prefix}/" if prefix else "")

    async def page() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async for info in agen:
            out.append(info)
            if len(out) >= 1000:
                break
        return out

    while True:
        chunk: list[dict[str, Any]] = sync(fs.loop, page)
        if not chunk:
            return
        yield from chunk


def _walk(fs: Any, path: str) -> Iterator[dict[str, Any]]:
    """Depth first, each folder's listing sorted: memory is one listing per level."""
    for info in sorted(fs.ls(path, detail=True), key=lambda i: str(i["name"])):
        if info.get("type") == "directory":
            yield from _walk(fs, str(info["name"]))
        else:
            yield info


def _stamp(info: dict[str, Any]) -> tuple[int, int]:
    """(size, modification time in ns) from a listing or a HEAD, whatever the store calls it."""
    size = int(info.get("size") or info.get("Size") or 0)
    for field in ("LastModified", "last_modified", "updated", "mtime", "created"):
        value = info.get(field)
        if isinstance(value, datetime):
            return size, int(value.timestamp() * 1e9)
        if isinstance(value, int | float):
            return size, int(value * 1e9)
        if isinstance(value, str) and value:
            try:
                return size, int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1e9)
            except ValueError:
                continue
    return size, 0
