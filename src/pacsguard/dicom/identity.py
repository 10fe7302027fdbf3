"""How pacsguard names itself in DICOM: in the file meta of every file it writes, and on the
wire (the audit's association requests). One identity, so a site's logs and files agree.
"""

from __future__ import annotations

from pacsguard import __version__

__all__ = ["PACSGUARD_IMPLEMENTATION_CLASS_UID", "PACSGUARD_IMPLEMENTATION_VERSION_NAME"]

#: A 2.25 UID (PS3.5 B.2) derived from the fixed UUID a3c5e1d2-7b4f-4c1e-9a8d-5f6e7a8b9c0d.
#: Fixed forever: every file pacsguard has written names it (the audit announced another
#: UID until issue 9 made this the only one).
PACSGUARD_IMPLEMENTATION_CLASS_UID = "2.25.217691626012310118759664023222258211853"
#: At most 16 characters (SH): ``PACSGUARD_`` and the version's digits.
PACSGUARD_IMPLEMENTATION_VERSION_NAME = "PACSGUARD_" + __version__.replace(".", "")[:6]
