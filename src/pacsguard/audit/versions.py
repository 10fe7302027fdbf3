"""Fingerprints from DICOM/HTTP banners and a small, cited table of known-vulnerable versions.

Banner matching only says "this version is reported"; a vendor backport would not
show. Findings therefore say "reported version", and the table lists only CVEs
whose affected range is published in the advisory cited next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Implementation Class UID roots (PS3.7 D.3.3.2) and the products they belong to.
_UID_ROOTS = (
    ("1.2.276.0.7230010.3", "DCMTK"),  # OFFIS
    ("1.2.826.0.1.3680043.9.3811", "pynetdicom"),
    ("1.2.40.0.13.1", "dcm4che"),
    ("1.3.6.1.4.1.30071.8", "fo-dicom"),
    ("1.2.826.0.1.3680043.2.135.1066", "Conquest"),
)
_VERSION_NAMES = (
    (re.compile(r"^OFFIS_DCMTK_(\d)(\d)(\d+)$"), "DCMTK"),
    (re.compile(r"^ORTHANC_?(\d+(?:\.\d+)*)", re.I), "Orthanc"),
    (re.compile(r"^PYNETDICOM_(\d)(\d)(\d+)$", re.I), "pynetdicom"),
    (re.compile(r"^PACSGUARD_(\d)(\d)(\d+)$", re.I), "pacsguard"),
    (re.compile(r"^dcm4che-(\d+(?:\.\d+)*)", re.I), "dcm4che"),
)


def fingerprint(impl_uid: str, version_name: str) -> tuple[str, str]:
    """Return (product, version) from an A-ASSOCIATE-AC's implementation fields ('' if unknown)."""
    for pattern, product in _VERSION_NAMES:
        m = pattern.match(version_name.strip())
        if m:
            groups = m.groups()
            version = ".".join(groups) if len(groups) > 1 else groups[0]
            return product, version
    for root, product in _UID_ROOTS:
        if impl_uid == root or impl_uid.startswith(root + "."):
            return product, ""
    return "", ""


@dataclass(frozen=True)
class Advisory:
    product: str
    fixed_in: tuple[int, ...]  # first fixed release; versions below it are affected
    cves: tuple[str, ...]
    summary: str
    source: str
    severity: str = "high"


ADVISORIES = (
    Advisory("Orthanc", (1, 5, 8), ("CVE-2025-0896",),
             "remote access enabled without authentication by default",
             "CISA ICSMA-25-037-01"),
    Advisory("Orthanc", (1, 12, 0), ("CVE-2023-33466",),
             "authenticated REST users can overwrite arbitrary files, leading to code execution",
             "NVD CVE-2023-33466; Orthanc 1.12.0 changelog"),
    Advisory("DCMTK", (3, 6, 7), ("CVE-2022-2119", "CVE-2022-2120", "CVE-2022-2121"),
             "path traversal in SCP/SCU file names, NULL pointer dereference",
             "CISA ICSMA-22-174-01"),
    Advisory("DCMTK", (3, 6, 9), ("CVE-2024-28130",),
             "incorrect type conversion in dcmpstat (DVPSSoftcopyVOI_PList), 3.6.8 and earlier",
             "Talos TALOS-2024-1957", "medium"),
)


def parse_version(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def vulnerabilities(product: str, version: str) -> list[tuple[str, str]]:
    """(severity, evidence) for every advisory that the reported version falls under."""
    ver = parse_version(version)
    if not product or ver is None:
        return []
    out = []
    for adv in ADVISORIES:
        if adv.product == product and ver < adv.fixed_in:
            fixed = ".".join(map(str, adv.fixed_in))
            out.append((adv.severity, f"{product} reported version {version} < {fixed}: "
                        f"{', '.join(adv.cves)} ({adv.summary}; {adv.source})"))
    return out
