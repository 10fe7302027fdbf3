"""How pacsguard identifies itself on the wire: the single source of its DICOM identity.

The audit announces itself honestly so that a site's logs show who knocked:
its own Implementation Class UID (a ``2.25`` UUID-derived UID, PS3.5 B.2),
Implementation Version Name and, by default, the calling AE title ``PACSGUARD``.
"""

from __future__ import annotations

import uuid

from pacsguard import __version__

# Fixed forever: changing it would make earlier audits unattributable in peer logs.
_IDENTITY_UUID = uuid.UUID("abf91a4e-8917-4aaf-923f-c77824aefec9")

PACSGUARD_IMPLEMENTATION_UID = f"2.25.{_IDENTITY_UUID.int}"
PACSGUARD_VERSION_NAME = "PACSGUARD_" + __version__.replace(".", "")[:6]
DEFAULT_CALLING_AE = "PACSGUARD"
HTTP_USER_AGENT = f"pacsguard-audit/{__version__} (+security self-audit)"
