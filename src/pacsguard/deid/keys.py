"""The secret key behind every pseudonym, UID and date shift.

The key is 32 random bytes written as 64 hex digits. It comes from ``--key-file PATH``,
else from the ``PACSGUARD_KEY`` environment variable, else from the default key file
(``$XDG_CONFIG_HOME/pacsguard/secret.key``), which is generated on first use. The key is
never printed; reports carry only its fingerprint (a keyed hash of a constant).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pacsguard.errors import SecretKeyError

KEY_ENV = "PACSGUARD_KEY"
KEY_BYTES = 32


def default_key_path() -> Path:
    """Where a key is generated when none is given."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pacsguard" / "secret.key"


@dataclass(frozen=True, repr=False)
class SecretKey:
    """A secret key; ``repr`` and ``str`` never show it."""

    material: bytes
    source: str  #: where it came from, for messages ("env PACSGUARD_KEY", a path)

    def __repr__(self) -> str:
        return f"SecretKey(fingerprint={self.fingerprint}, source={self.source!r})"

    __str__ = __repr__

    def derive(self, label: str) -> bytes:
        """A sub-key for one purpose (patient ids, UIDs, dates...)."""
        return hmac.new(self.material, b"pacsguard/v1/" + label.encode(), hashlib.sha256).digest()

    @property
    def fingerprint(self) -> str:
        """16 hex digits that identify the key without revealing it."""
        return self.derive("fingerprint").hex()[:16]


def parse_key_text(text: str, source: str) -> SecretKey:
    """Parse the hex key format (comment lines starting with ``#`` allowed)."""
    body = "".join(line.strip() for line in text.splitlines() if not line.strip().startswith("#"))
    try:
        material = bytes.fromhex(body)
    except ValueError as exc:
        raise SecretKeyError(f"key from {source} is not hexadecimal") from exc
    if len(material) < KEY_BYTES:
        raise SecretKeyError(
            f"key from {source} is too short ({len(material)} bytes; need {KEY_BYTES}: "
            "generate one with 'pacsguard keygen PATH')"
        )
    return SecretKey(material, source)


def read_key_file(path: Path) -> SecretKey:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise SecretKeyError(f"key file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"cannot read key file {path}") from exc
    return parse_key_text(text, str(path))


def write_new_key(path: Path) -> SecretKey:
    """Create a new key file readable by its owner only; refuse to overwrite."""
    material = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise SecretKeyError(f"key file {path} already exists; not overwriting it") from exc
    except OSError as exc:
        raise SecretKeyError(f"cannot create key file {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write("# pacsguard secret key: keep it secret; the same key gives the same pseudonyms\n")
        fh.write(material.hex() + "\n")
    return SecretKey(material, str(path))


def resolve_key(key_file: Path | None, *, generate: bool = True) -> tuple[SecretKey, bool]:
    """Find the key: ``--key-file``, then ``$PACSGUARD_KEY``, then the default file.

    Returns the key and whether it was newly generated.
    """
    if key_file is not None:
        return read_key_file(key_file), False
    env = os.environ.get(KEY_ENV)
    if env is not None:
        return parse_key_text(env, f"environment variable {KEY_ENV}"), False
    path = default_key_path()
    if path.exists():
        return read_key_file(path), False
    if not generate:
        raise SecretKeyError(f"no key: give --key-file, set {KEY_ENV}, or create {path}")
    return write_new_key(path), True
