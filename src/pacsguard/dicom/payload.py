"""The bytes of one de-identified file: a new header, then (streaming path) the input's own
Pixel Data element, which the kernel copies from input to output without passing through
Python (``copy_file_range``, else ``sendfile``, else a bounded buffered copy)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from pacsguard.dicom.streaming import PixelTail

__all__ = ["Payload"]

_CHUNK = 1 << 20  #: the buffered fallback's read size: memory stays flat


@dataclass(frozen=True)
class Payload:
    """``head``, then ``tail``'s bytes of the file ``source`` (when there is a tail)."""

    head: bytes
    source: str = ""
    tail: PixelTail | None = None

    @classmethod
    def of_file(cls, path: str | os.PathLike[str]) -> Payload:
        """A whole file, copied by the kernel when it is written (a spool's copy forwarded
        to a folder): its bytes never pass through Python."""
        st = os.stat(path)
        return cls(b"", os.fspath(path), PixelTail(0, st.st_size, st.st_size, st.st_mtime_ns))

    @property
    def size(self) -> int:
        return len(self.head) + (self.tail.length if self.tail else 0)

    def read(self) -> bytes:
        """The whole file in memory (for a store that takes bytes: one PUT, a spool)."""
        if self.tail is None:
            return self.head
        with open(self.source, "rb") as src:
            self._check_unchanged(src)
            src.seek(self.tail.start)
            body = src.read(self.tail.length)
        if len(body) != self.tail.length:
            raise _changed()
        return self.head + body

    def write_to(self, fh: BinaryIO) -> None:
        """Write the whole file at ``fh``'s position (an unbuffered or flushed file)."""
        fh.write(self.head)
        if self.tail is None:
            return
        fh.flush()
        with open(self.source, "rb") as src:
            self._check_unchanged(src)
            _copy_range(src.fileno(), fh.fileno(), self.tail.start, self.tail.length)
            self._check_unchanged(src)  # a file rewritten during the copy: refused

    def _check_unchanged(self, src: BinaryIO) -> None:
        assert self.tail is not None
        st = os.fstat(src.fileno())
        if st.st_size != self.tail.size or st.st_mtime_ns != self.tail.mtime_ns:
            raise _changed()


def _changed() -> OSError:
    return OSError(errno.ESTALE, "the input file changed while it was copied")


def _copy_range(src: int, dst: int, offset: int, count: int) -> None:
    """Copy ``count`` bytes of ``src`` from ``offset`` to ``dst``'s position, in the kernel
    when it can; a short source is an error (never a short file)."""
    done = 0
    for copy in (_copy_file_range, _sendfile, _buffered):
        try:
            done = copy(src, dst, offset, count, done)
            break
        except _Unsupported:
            continue
    if done != count:
        raise _changed()


class _Unsupported(Exception):
    """This copy method does not work between these two files; the next one is tried."""


_NOT_HERE = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP,
                       errno.ENOTSUP, errno.EBADF})


def _copy_file_range(src: int, dst: int, offset: int, count: int, done: int) -> int:
    if not hasattr(os, "copy_file_range"):
        raise _Unsupported
    return _in_kernel(lambda want, at: os.copy_file_range(src, dst, want, offset + at),
                      count, done)


def _sendfile(src: int, dst: int, offset: int, count: int, done: int) -> int:
    return _in_kernel(lambda want, at: os.sendfile(dst, src, offset + at, want), count, done)


def _in_kernel(call: Callable[[int, int], int], count: int, done: int) -> int:
    """Repeat ``call(bytes wanted, bytes done)`` until ``count`` are copied or the source
    ends; a method the kernel refuses for these files before any byte: the next one."""
    while done < count:
        try:
            n = call(count - done, done)
        except OSError as exc:
            if exc.errno in _NOT_HERE and done == 0:
                raise _Unsupported from exc
            raise
        if n == 0:
            break
        done += n
    return done


def _buffered(src: int, dst: int, offset: int, count: int, done: int) -> int:
    while done < count:
        chunk = os.pread(src, min(_CHUNK, count - done), offset + done)
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view):]
        done += len(chunk)
    return done
