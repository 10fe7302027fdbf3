"""How the audit identifies itself on the wire, so that a site's logs show who knocked:
pacsguard's Implementation Class UID and Version Name (:mod:`pacsguard.dicom.identity`, the
same as in every file pacsguard writes), by default the calling AE title ``PACSGUARD``, and
its HTTP user agent.
"""

from __future__ import annotations

from pacsguard import __version__

__all__ = ["DEFAULT_CALLING_AE", "HTTP_USER_AGENT"]

DEFAULT_CALLING_AE = "PACSGUARD"
HTTP_USER_AGENT = f"pacsguard-audit/{__version__} (+security self-audit)"
