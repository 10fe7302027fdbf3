"""Deterministic UIDs for the sample data.

``pydicom.uid.generate_uid(prefix=None, entropy_srcs=...)`` ignores its entropy
and returns a random UUID-based UID, so it cannot make reproducible trees.
Instead we derive a name-based UUID (RFC 4122 version 5) from the seed and the
object's coordinates and write it under the ``2.25`` arc (ISO/IEC 9834-8), the
same shape as pydicom's random ``2.25`` UIDs. Real-looking roots of vendors are
avoided on purpose: these UIDs must never collide with real ones.
"""

from __future__ import annotations

import uuid

from pydicom.uid import UID

__all__ = ["sample_uid"]

# Fixed namespace so the same (seed, parts) always gives the same UID.
_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-a1b2c3d4e5f6")


def sample_uid(seed: int, *parts: str | int) -> UID:
    """Return the UID of the object at ``parts`` in the sample universe of ``seed``."""
    name = "|".join(["pacsguard-sample", str(seed), *(str(p) for p in parts)])
    return UID(f"2.25.{uuid.uuid5(_NAMESPACE, name).int}")
