"""The DICOM foundation every other layer builds on; it imports only the standard library,
pydicom, :mod:`pacsguard.errors` and :mod:`pacsguard.limits`.

- :mod:`~pacsguard.dicom.tags`: tags by keyword, the overlay and curve group ranges;
- :mod:`~pacsguard.dicom.values`: an element's value as text;
- :mod:`~pacsguard.dicom.identity`: pacsguard's Implementation Class UID and version name;
- :mod:`~pacsguard.dicom.settings`: pydicom tolerant and silent, in a scope;
- :mod:`~pacsguard.dicom.prescan`: structure and limits checked on the raw bytes;
- :mod:`~pacsguard.dicom.reader`: the one reader, and its reason codes;
- :mod:`~pacsguard.dicom.fswalk`: the one walker of input trees, and its symbolic link rule.

Import the modules themselves: this package imports nothing, so ``pacsguard audit`` does not
pay for pydicom.
"""
