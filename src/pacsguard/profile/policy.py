"""The de-identification policy: options, overrides, date-shift range, pseudonym format.

A policy comes from defaults, then a TOML file, then the command line. Every entry of a
policy file is validated; an error names the offending entry::

    [profile]
    base = "default"          # "default" (research profile) or "basic" (no option)
    options = ["Retain UIDs"] # replaces the base's options; or add_options / remove_options
    date_shift_days = [-1095, -30]
    pseudonym_format = "PG-{hash:10}"
    clean_pixels = false
    burned_in_modalities = ["US", "SC", "OT", "XC", "ES"]

    [actions]                 # per tag "(gggg,eeee)" or keyword
    StudyDescription = "keep"
    "(0008,103E)" = "remove"

    [private]                 # per private creator (any group)
    "ACME PACS 1.0" = "remove"

    [limits]                  # what one input may cost (see pacsguard.limits)
    max_depth = 32
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword

from pacsguard.errors import PolicyError
from pacsguard.limits import DEFAULT_LIMITS, Limits, limits_from
from pacsguard.profile.actions import Action, parse_policy_action
from pacsguard.profile.options import Option, check_consistent, parse_option
from pacsguard.profile.pixels import DEFAULT_PIXELS, PixelSettings

#: The default research profile: Basic Profile plus these options.
DEFAULT_OPTIONS = frozenset({
    Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
    Option.RETAIN_SAFE_PRIVATE,
    Option.CLEAN_DESCRIPTORS,
    Option.CLEAN_STRUCTURED_CONTENT,
})

#: Modalities whose pixels often carry burned-in text when BurnedInAnnotation is absent.
DEFAULT_BURNED_IN_MODALITIES = frozenset({"US", "SC", "OT", "XC", "ES"})

_PSEUDONYM_FIELD = re.compile(r"\{hash(?::(\d+))?\}")
_TAG_TEXT = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)?$")
_FORBIDDEN_PSEUDONYM = re.compile(r"[\\\x00-\x1f/]")


def _unpickle_policy(state: dict[str, Any]) -> Policy:
    state["overrides"] = MappingProxyType(state["overrides"])
    state["private_overrides"] = MappingProxyType(state["private_overrides"])
    return Policy(**state)


@dataclass(frozen=True)
class Policy:
    """Everything that decides what happens to a dataset, except the secret key."""

    options: frozenset[Option] = DEFAULT_OPTIONS
    date_shift_days: tuple[int, int] = (-1095, -30)
    pseudonym_format: str = "PG-{hash:10}"
    overrides: Mapping[int, Action] = field(default_factory=lambda: MappingProxyType({}))
    private_overrides: Mapping[str, Action] = field(default_factory=lambda: MappingProxyType({}))
    clean_pixels: bool = True  #: clean burned-in text of risky files instead of quarantining
    burned_in_modalities: frozenset[str] = DEFAULT_BURNED_IN_MODALITIES
    pixels: PixelSettings = DEFAULT_PIXELS  #: ``[pixels]``: detector, mode, margin, regions
    limits: Limits = DEFAULT_LIMITS  #: what one input may cost (not part of the digest)
    name: str = "default"

    def __post_init__(self) -> None:
        check_consistent(self.options)
        low, high = self.date_shift_days
        if low > high:
            raise PolicyError(f"date_shift_days: {low} > {high}")
        if self.shifts_dates and low <= 0 <= high:
            raise PolicyError(
                "date_shift_days: the range must not contain 0, or some patients' dates "
                "would stay unchanged"
            )
        if not _PSEUDONYM_FIELD.search(self.pseudonym_format):
            raise PolicyError("pseudonym_format: must contain {hash} or {hash:N}")
        if _FORBIDDEN_PSEUDONYM.search(self.pseudonym_format) or len(
            self.format_pseudonym("X" * 32)
        ) > 64:
            raise PolicyError("pseudonym_format: no '/', '\\' or control characters; 64 chars max")

    def __reduce__(self) -> tuple[Any, ...]:
        # A policy travels to cluster workers: read-only mappings do not pickle, dicts do.
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["overrides"] = dict(self.overrides)
        state["private_overrides"] = dict(self.private_overrides)
        return (_unpickle_policy, (state,))

    @property
    def shifts_dates(self) -> bool:
        """True when dates are shifted (Modified Dates), false when kept or removed."""
        return Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in self.options

    def kept_tags(self) -> frozenset[int]:
        """Tags the policy keeps by name (``[actions] X = "keep"``): the user's choice."""
        return frozenset(t for t, a in self.overrides.items() if a is Action.K)

    def has(self, option: Option) -> bool:
        return option in self.options

    def format_pseudonym(self, digest_b32: str) -> str:
        """Fill the ``{hash:N}`` fields of the pseudonym format from a base32 digest."""

        def fill(m: re.Match[str]) -> str:
            n = int(m.group(1) or 10)
            if not 4 <= n <= 32:
                raise PolicyError("pseudonym_format: {hash:N} needs 4 <= N <= 32")
            return digest_b32[:n]

        return _PSEUDONYM_FIELD.sub(fill, self.pseudonym_format)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (no secrets, no identifiers)."""
        return {
            "name": self.name,
            "options": sorted(o.value for o in self.options),
            "date_shift_days": list(self.date_shift_days),
            "pseudonym_format": self.pseudonym_format,
            "overrides": {f"({t >> 16:04X},{t & 0xFFFF:04X})": a.value
                          for t, a in sorted(self.overrides.items())},
            "private_overrides": {c: a.value for c, a in sorted(self.private_overrides.items())},
            "clean_pixels": self.clean_pixels,
            "burned_in_modalities": sorted(self.burned_in_modalities),
            "pixels": self.pixels.to_json(),
            "limits": self.limits.to_json(),
        }

    def digest(self) -> str:
        """A stable fingerprint; a resumed run must have the same one. Limits decide only
        whether a file is refused, not its output, so they are left out: a rerun with other
        limits retries what they quarantined."""
        data = self.to_json()
        del data["limits"]
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_options(self, add: Iterable[Option] = (), remove: Iterable[Option] = ()) -> Policy:
        return replace(self, options=(self.options | frozenset(add)) - frozenset(remove))


def parse_tag(text: str, where: str) -> int:
    """Parse ``(gggg,eeee)``, ``gggg,eeee``, ``ggggeeee`` or a DICOM keyword into a tag."""
    m = _TAG_TEXT.match(text.strip())
    if m:
        return (int(m.group(1), 16) << 16) | int(m.group(2), 16)
    if re.fullmatch(r"[0-9A-Fa-f]{8}", text.strip()):
        return int(text.strip(), 16)
    tag = tag_for_keyword(text.strip())
    if tag is None:
        raise PolicyError(f"{where}: {text!r} is neither a tag nor a DICOM keyword")
    return int(tag)


def _options_from(section: Mapping[str, Any], base: frozenset[Option]) -> frozenset[Option]:
    def names(key: str) -> list[Option]:
        value = section.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"[profile] {key}: expected a list of option names")
        return [parse_option(v) for v in value]

    opts = frozenset(names("options")) if "options" in section else base
    return (opts | frozenset(names("add_options"))) - frozenset(names("remove_options"))


_PROFILE_KEYS = {"base", "options", "add_options", "remove_options", "date_shift_days",
                 "pseudonym_format", "clean_pixels", "burned_in_modalities"}


def policy_from_mapping(data: Mapping[str, Any], name: str = "policy") -> Policy:
    """Build a policy from parsed TOML, validating every entry."""
    unknown = set(data) - {"profile", "actions", "private", "pixels", "limits"}
    if unknown:
        raise PolicyError(f"unknown section [{sorted(unknown)[0]}] (expected profile, actions, "
                          "private, pixels, limits)")
    prof = data.get("profile", {})
    if not isinstance(prof, dict):
        raise PolicyError("[profile] must be a table")
    bad = set(prof) - _PROFILE_KEYS
    if bad:
        raise PolicyError(f"[profile] unknown key {sorted(bad)[0]!r}")
    base_name = prof.get("base", "default")
    if base_name not in ("default", "basic"):
        raise PolicyError(f"[profile] base: {base_name!r} is not 'default' or 'basic'")
    base = DEFAULT_OPTIONS if base_name == "default" else frozenset()
    kwargs: dict[str, Any] = {"options": _options_from(prof, base), "name": name,
                              "clean_pixels": base_name == "default"}
    if "date_shift_days" in prof:
        rng = prof["date_shift_days"]
        if not (isinstance(rng, list) and len(rng) == 2 and all(type(v) is int for v in rng)):
            raise PolicyError("[profile] date_shift_days: expected [min, max] in whole days")
        kwargs["date_shift_days"] = (rng[0], rng[1])
    if "pseudonym_format" in prof:
        if not isinstance(prof["pseudonym_format"], str):
            raise PolicyError("[profile] pseudonym_format: expected a string")
        kwargs["pseudonym_format"] = prof["pseudonym_format"]
    if "clean_pixels" in prof:
        if not isinstance(prof["clean_pixels"], bool):
            raise PolicyError("[profile] clean_pixels: expected true or false")
        kwargs["clean_pixels"] = prof["clean_pixels"]
    if "burned_in_modalities" in prof:
        mods = prof["burned_in_modalities"]
        if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
            raise PolicyError("[profile] burned_in_modalities: expected a list of modality codes")
        kwargs["burned_in_modalities"] = frozenset(m.strip().upper() for m in mods)

    overrides: dict[int, Action] = {}
    for key, value in (data.get("actions") or {}).items():
        where = f"[actions] {key!r}"
        tag = parse_tag(key, where)
        action = parse_policy_action(value, where)
        if action is Action.SHIFT and (tag >> 16) % 2 == 0:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = ""
            if vr and vr not in ("DA", "DT", "TM"):
                raise PolicyError(f"{where}: 'shift' applies to dates and times, not {vr}")
        overrides[tag] = action
    kwargs["overrides"] = MappingProxyType(overrides)

    private: dict[str, Action] = {}
    for key, value in (data.get("private") or {}).items():
        where = f"[private] {key!r}"
        if not key.strip():
            raise PolicyError(f"{where}: empty private creator")
        private[key.strip().lower()] = parse_policy_action(value, where)
    kwargs["private_overrides"] = MappingProxyType(private)
    kwargs.update(_pixels_from(data.get("pixels", {})))
    if "limits" in data:
        kwargs["limits"] = limits_from(data["limits"])
    return Policy(**kwargs)


def _pixels_from(section: Any) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise PolicyError("[pixels] must be a table")
    out: dict[str, Any] = {}
    if "clean" in section:
        if not isinstance(section["clean"], bool):
            raise PolicyError("[pixels] clean: expected true or false")
        out["clean_pixels"] = section["clean"]
    out["pixels"] = PixelSettings.from_mapping({k: v for k, v in section.items() if k != "clean"})
    return out


def load_policy(path: Path) -> Policy:
    """Read and validate a TOML policy file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"policy file {path} is not UTF-8") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path}: {exc}") from exc
    return policy_from_mapping(data, name=path.name)
