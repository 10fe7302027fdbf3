"""``pacsguard audit``: find exposed DICOM, DICOMweb and web-viewer endpoints, safely.

The audit only ever counts what a peer would disclose; it never stores or prints
returned identifiers, never sends image data, and refuses targets outside
loopback and private ranges unless explicitly allowed.
"""
