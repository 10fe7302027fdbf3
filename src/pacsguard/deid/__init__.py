"""Apply a policy to one dataset: actions, pseudonyms, UIDs, dates, text, private tags."""

from pacsguard.deid.engine import DeidResult, FileContext, HeaderEngine
from pacsguard.deid.keys import SecretKey, resolve_key, write_new_key
from pacsguard.deid.leakguard import LeakGuard
from pacsguard.deid.pseudonyms import Pseudonymizer
from pacsguard.deid.text import TextCleaner

__all__ = [
    "DeidResult",
    "FileContext",
    "HeaderEngine",
    "LeakGuard",
    "Pseudonymizer",
    "SecretKey",
    "TextCleaner",
    "resolve_key",
    "write_new_key",
]
