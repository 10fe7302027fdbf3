"""``pacsguard keygen PATH``: create a new secret key file (mode 0600)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("keygen", help="create a new secret key file",
                       description="Create a new secret key file readable only by you.")
    p.add_argument("path", type=Path, help="where to write the key (refuses to overwrite)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pacsguard.deid.keys import write_new_key

    key = write_new_key(args.path)
    print(f"pacsguard keygen: wrote a new key to {args.path} (fingerprint {key.fingerprint}); "
          "keep it secret and back it up: the same key gives the same pseudonyms")
    return 0
