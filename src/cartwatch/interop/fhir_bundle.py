"""Reading a FHIR Bundle as a stream: one entry at a time, bounded in bytes and entries.

A Bundle from an EHR export can be large (tens of MB); it is never loaded whole. ``ijson``
walks the JSON and hands over one ``entry[i].resource`` at a time, which is validated by the
``fhir.resources`` models (R4B, FHIR 4.3: the R4 content of every resource imported here;
the R4B subpackage is the maintained R4-line model set of fhir.resources 8) and passed on.
Bundle-level problems (not JSON, not a Bundle, a Bundle type that is not a collection,
transaction or searchset, too many bytes or entries) refuse the whole import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Final

ACCEPTED_TYPES: Final = ("collection", "transaction", "searchset", "batch")
#: Default bounds; the web endpoint passes its own (smaller) byte limit.
MAX_BYTES: Final = 512 * 1024 * 1024
MAX_ENTRIES: Final = 2_000_000


class BundleRefused(ValueError):
    """The document as a whole cannot be imported; ``problems`` are ``path: problem``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class BundleTooLarge(BundleRefused):
    """The document is over the byte bound (the API answers 413)."""


class _Bounded:
    """A binary stream that refuses to be read past *limit* bytes."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.limit, self.read_bytes = raw, limit, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise BundleTooLarge(
                [f"input: the bundle is larger than the limit of {self.limit:,} bytes"]
            )
        return chunk


@dataclass(frozen=True)
class Entry:
    index: int
    full_url: str | None
    resource: dict[str, Any]  # the JSON object as sent

    @property
    def resource_type(self) -> str:
        value = self.resource.get("resourceType")
        return value if isinstance(value, str) else "(none)"

    @property
    def identity(self) -> str | None:
        """``Type/id`` (or the fullUrl when there is no id): what makes a re-import a no-op."""
        rid = self.resource.get("id")
        if isinstance(rid, str) and rid:
            return f"{self.resource_type}/{rid}"
        return self.full_url

    @property
    def sha256(self) -> str:
        text = json.dumps(self.resource, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class _Entries:
    """Builds one entry at a time from ijson events (only the current one is held)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.top: dict[str, Any] = {}
        self.builder: Any = None
        self.entry: dict[str, Any] = {}
        self.index = 0

    def feed(self, prefix: str, event: str, value: Any) -> Entry | None:
        import ijson

        if self.builder is not None:
            self.builder.event(event, value)
            if prefix == "entry.item.resource" and event == "end_map":
                self.entry["resource"], self.builder = self.builder.value, None
        elif prefix in ("resourceType", "type") and event == "string":
            self.top[prefix] = value
            if prefix == "resourceType" and value != "Bundle":
                raise BundleRefused([f"resourceType: must be 'Bundle', got {value!r}"])
        elif prefix == "entry.item" and event == "start_map":
            self.entry = {}
        elif prefix == "entry.item.fullUrl" and event == "string":
            self.entry["fullUrl"] = value
        elif prefix == "entry.item.resource" and event == "start_map":
            self.builder = ijson.ObjectBuilder()
            self.builder.event(event, value)
        elif prefix == "entry.item" and event == "end_map":
            return self.finish()
        return None

    def finish(self) -> Entry:
        if self.index >= self.max_entries:
            raise BundleRefused([f"entry: more than {self.max_entries:,} entries"])
        resource = self.entry.get("resource")
        found = Entry(
            self.index, self.entry.get("fullUrl"), resource if isinstance(resource, dict) else {}
        )
        self.index += 1
        return found


def iter_entries(
    stream: IO[bytes], *, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES
) -> Iterator[Entry]:
    """Yield each entry of the Bundle in *stream*; raise :class:`BundleRefused` at the end
    (or as soon as a bound is crossed) when the document is not an acceptable Bundle."""
    import ijson

    entries = _Entries(max_entries)
    try:
        for prefix, event, value in ijson.parse(_Bounded(stream, max_bytes), use_float=True):
            found = entries.feed(prefix, event, value)
            if found is not None:
                yield found
    except ijson.JSONError as exc:
        raise BundleRefused([f"input: not valid JSON ({exc})"]) from None
    top = entries.top
    if top.get("resourceType") != "Bundle":
        raise BundleRefused(["resourceType: must be 'Bundle'"])
    if top.get("type") not in ACCEPTED_TYPES:
        raise BundleRefused(
            [f"type: must be one of {', '.join(ACCEPTED_TYPES)}, got {top.get('type')!r}"]
        )


def validate(entry: Entry) -> tuple[Any, str | None]:
    """The fhir.resources R4B model of the entry's resource, or (None, the first problem)."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    try:
        model = get_fhir_model_class(entry.resource_type)
    except (KeyError, ValueError):
        return None, f"resourceType {entry.resource_type!r} is not a FHIR resource type"
    try:
        return model.model_validate(entry.resource), None
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        return None, f"not valid FHIR R4: {path}: {first['msg']} ({exc.error_count()} problem(s))"
