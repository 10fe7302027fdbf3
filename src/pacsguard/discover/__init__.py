"""What identifies someone, defined once (forms, matcher, index, judge, risk), and the two
checks built on it: ``verify`` (leaks in a de-identified copy) and ``scan`` (inventory).

Nothing is imported here: the definition modules sit below ``deid`` and ``pixels`` (which
use them), the checks (:mod:`.scan`, :mod:`.verify` and their helpers) above them (verify
reads burned-in text with ``pixels``). Import ``pacsguard.discover.verify.verify_trees`` and
``pacsguard.discover.scan.scan_tree``.
"""
