"""Socket options for every DICOM association pacsguard opens or accepts.

pynetdicom leaves Nagle's algorithm on. A C-STORE ends with a short PDU; held back until
the peer acknowledges the previous ones, which it delays, it costs about 40 ms per instance
(DCMTK's tools need ``TCP_NODELAY=1`` for the same reason). Bound to ``EVT_CONN_OPEN``, which
pynetdicom fires for connections it makes and connections it accepts.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from pynetdicom import evt

__all__ = ["NODELAY"]


def _nodelay(event: Any) -> None:
    sock = getattr(getattr(getattr(event.assoc, "dul", None), "socket", None), "socket", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # a socket closed under us: nothing to tune
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: The event handler to add to every ``associate()`` and ``start_server()``.
NODELAY = (evt.EVT_CONN_OPEN, _nodelay)
