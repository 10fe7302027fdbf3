"""Keyed, deterministic pseudonyms: patient IDs and names, UIDs, date shifts, hashes.

Everything is an HMAC-SHA256 of the original value under a purpose-specific sub-key, so the
same key gives the same output on every machine, in every run and in any file order, with
no shared state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from pydicom._uid_dict import UID_dictionary

from pacsguard.deid.keys import SecretKey
from pacsguard.profile.policy import Policy

#: UIDs the standard itself defines (SOP classes, transfer syntaxes, coding schemes...):
#: they identify no one, and remapping them would break the files.
STANDARD_UIDS = frozenset(UID_dictionary)
_STANDARD_ROOT = "1.2.840.10008."


class Pseudonymizer:
    """Keyed mappings for one key and one policy."""

    def __init__(self, key: SecretKey, policy: Policy) -> None:
        self._policy = policy
        self._k_patient = key.derive("patient")
        self._k_uid = key.derive("uid")
        self._k_shift = key.derive("date-shift")
        self._k_hash = key.derive("value-hash")
        self.uid = lru_cache(maxsize=65536)(self._uid)

    def _mac(self, key: bytes, value: str) -> bytes:
        return hmac.new(key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()

    def patient_pseudonym(self, identity: str) -> str:
        """The pseudonym for a patient identity (used for Patient ID and Patient's Name)."""
        digest = base64.b32encode(self._mac(self._k_patient, identity)).decode().rstrip("=")
        return self._policy.format_pseudonym(digest)

    def date_shift_days(self, identity: str) -> int:
        """Whole days to add to this patient's dates, within the policy's range."""
        low, high = self._policy.date_shift_days
        n = int.from_bytes(self._mac(self._k_shift, identity)[:8], "big")
        return low + n % (high - low + 1)

    def _uid(self, value: str) -> str:
        """``2.25.<integer>`` from the original UID (consistent across files and runs)."""
        value = value.strip().rstrip("\x00")
        if not value or value in STANDARD_UIDS or value.startswith(_STANDARD_ROOT):
            return value
        n = int.from_bytes(self._mac(self._k_uid, value)[:16], "big")
        return f"2.25.{n}"

    def hash_text(self, value: str, max_len: int) -> str:
        """A keyed hash of a value, as base32 text cut to ``max_len`` (at least 8)."""
        digest = base64.b32encode(self._mac(self._k_hash, value)).decode().rstrip("=")
        return digest[: max(8, min(max_len, len(digest)))]
