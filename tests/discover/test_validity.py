"""dciodvfy messages are compared without their values: a remapped UID or a cleaned value cut
by a line break is the same error as the original's, not a new one."""

from __future__ import annotations

from pacsguard.discover.validity import _normalise


def test_values_uids_and_cut_values_are_dropped() -> None:
    orig = _normalise("Error - Value invalid for this VR - (0x0032,0x1030) LO Reason = <Dr HOUSE")
    out = _normalise("Error - Value invalid for this VR - (0x0032,0x1030) LO Reason = <[NAME]")
    assert orig == out and "HOUSE" not in orig
    a = _normalise("Error - not listed but have IMAGE ReferencedSOPInstanceUID 1.2.840.113619.2.1")
    b = _normalise("Error - not listed but have IMAGE ReferencedSOPInstanceUID 2.25.29187577483")
    assert a == b and "113619" not in a
    # Attribute and module names in <...> stay: they tell errors apart.
    assert "Photometric" in _normalise("Error - bad value <RGB> for value 1 of attribute "
                                       "<Photometric Interpretation>")
