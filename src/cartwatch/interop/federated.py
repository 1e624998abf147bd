"""Federated Kaplan–Meier and log-rank: centres share counts, the network pools them.

A centre's *share* holds, per group, its distinct follow-up times with the number of events
and of censorings at each — no identifiers, no row order, no covariates — plus the centre's
name, the sha256 of the source it was computed from and the cartwatch version. The
Kaplan–Meier estimate, its Greenwood variance and CIs, the printed median and the log-rank
test depend on the data only through these counts [1, 2], so the pool of the shares equals
``cartwatch km`` on the pooled rows exactly (the same integers reach the same floating-point
operations: :func:`cartwatch.outcomes.survival.kaplan_meier_from_counts` and
:func:`~cartwatch.outcomes.logrank.logrank_from_counts`).

A share carries ``checksum_sha256`` over its canonical JSON: a share edited by hand (or
damaged in transit) is refused. It is a checksum, not a signature: it does not prove who
wrote the file.

References
----------
1. Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457–481 (the estimate is a product over the
   distinct times of (1 − d/n)).
2. Mantel N. Cancer Chemother Rep 1966;50:163–170 (the log-rank statistic is a sum over the
   distinct times of observed − expected events).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from cartwatch import __version__
from cartwatch.outcomes.km_summary import group_order, km_summary, logrank_summary
from cartwatch.outcomes.logrank import logrank_from_counts
from cartwatch.outcomes.survival import KaplanMeier, kaplan_meier_from_counts, tied_counts
from cartwatch.schemas import strict_json
from cartwatch.schemas.errors import problems_from

FORMAT = "cartwatch-federated-share"
FORMAT_VERSION = 1
#: The group label when a share is not split by group (as ``cartwatch km`` prints it).
ALL = "all"
POOLING = (
    "exact pooling of per-centre counts (distinct times with events and censorings): the "
    "Kaplan–Meier estimate, Greenwood variance, CIs, medians and log-rank equal those of "
    "the pooled rows"
)


class ShareProblems(ValueError):
    """A share could not be made, read or pooled; ``problems`` are ``path: problem`` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------- the file format

_Time = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
_Count = Annotated[StrictInt, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Analysis(_Strict):
    """What was counted: the same in every share of one pool."""

    source: Annotated[StrictStr, Field(pattern="^(csv|adam)$")]
    time: StrictStr  # CSV time column, or "AVAL" for ADaM
    event: StrictStr  # CSV event column (with event_value) or "CNSR == 0" for ADaM
    event_value: StrictStr | None = None
    param: StrictStr | None = None  # ADaM PARAMCD
    group: StrictStr | None = None


class GroupCounts(_Strict):
    group: Annotated[StrictStr, Field(min_length=1)]
    times: list[_Time]  # not "time": the error paths drop a field named like a type
    events: list[_Count]
    censored: list[_Count]

    @property
    def n(self) -> int:
        return sum(self.events) + sum(self.censored)


class Share(_Strict):
    format: Annotated[StrictStr, Field(pattern=f"^{FORMAT}$")]
    format_version: Annotated[StrictInt, Field(ge=FORMAT_VERSION, le=FORMAT_VERSION)]
    centre: Annotated[StrictStr, Field(min_length=1)]
    source_sha256: Annotated[StrictStr, Field(pattern="^[0-9a-f]{64}$")]
    cartwatch_version: Annotated[StrictStr, Field(min_length=1)]
    analysis: Analysis
    min_cell: Annotated[StrictInt, Field(ge=1)] | None = None
    excluded_missing_group: _Count = 0
    groups: Annotated[list[GroupCounts], Field(min_length=1)]
    checksum_sha256: Annotated[StrictStr, Field(pattern="^[0-9a-f]{64}$")]


def _canonical(payload: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in payload.items() if k != "checksum_sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _checksum(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(payload)).hexdigest()


def _group_problems(index: int, g: GroupCounts) -> list[str]:
    """What a schema cannot say: aligned arrays, increasing times, nobody counted at a time."""
    at = f"groups[{index}]"
    if not (len(g.times) == len(g.events) == len(g.censored)):
        return [
            f"{at}: times, events and censored must have the same length "
            f"(got {len(g.times)}, {len(g.events)}, {len(g.censored)})"
        ]
    problems = []
    if not g.times:
        problems.append(f"{at}.times: no times (a group needs at least one subject)")
    for i in range(1, len(g.times)):
        if not g.times[i] > g.times[i - 1]:
            problems.append(f"{at}.times[{i}]: times must be distinct and increasing")
            break
    for i, (d, c) in enumerate(zip(g.events, g.censored, strict=True)):
        if d + c == 0:
            problems.append(f"{at}.events[{i}]: no event and no censoring at time {g.times[i]:g}")
            break
    return problems


def parse_share(text: str | bytes, name: str) -> Share:
    """Validate one share document; every problem is reported as ``name: path: problem``."""
    try:
        raw = strict_json.loads(text)
    except strict_json.JsonProblems as exc:
        raise ShareProblems([f"{name}: {p}" for p in exc.problems]) from None
    try:
        share = Share.model_validate(raw)
    except ValidationError as exc:
        raise ShareProblems([f"{name}: {p}" for p in problems_from(exc)]) from None
    problems = [p for i, g in enumerate(share.groups) for p in _group_problems(i, g)]
    labels = [g.group for g in share.groups]
    dupes = sorted({label for label in labels if labels.count(label) > 1})
    problems += [f"groups: group {label!r} appears more than once" for label in dupes]
    if share.analysis.group is None and labels != [ALL]:
        problems.append(f"groups: a share without a group variable has one group {ALL!r}")
    if _checksum(raw) != share.checksum_sha256:
        problems.append(
            "checksum_sha256: does not match the content (the share was changed after it "
            "was written)"
        )
    if problems:
        raise ShareProblems([f"{name}: {p}" for p in problems])
    return share


# --------------------------------------------------------------------------- making a share


def make_share(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: Sequence[str] | None,
    *,
    centre: str,
    source_sha256: str,
    analysis: Analysis,
    min_cell: int | None = None,
) -> dict[str, Any]:
    """The share document of one centre (a JSON-ready dict with its checksum).

    *group*: one label per subject ("" = missing: left out and counted in
    ``excluded_missing_group``, as ``cartwatch km`` does) or None for one group ``"all"``.
    Raises :class:`ShareProblems` when a group has fewer than *min_cell* subjects (nothing is
    to be written then) or the input is unusable.
    """
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=np.bool_)
    if t.ndim != 1 or t.shape != e.shape:
        raise ShareProblems(["time, event: one value per subject is needed"])
    if not np.isfinite(t).all() or (t < 0).any():
        raise ShareProblems(["time: times must be finite and not negative"])
    if not centre.strip():
        raise ShareProblems(["centre: required (--centre NAME)"])
    labels = (
        np.full(t.size, ALL, dtype=object) if group is None else np.asarray(group, dtype=object)
    )
    if labels.shape != t.shape:
        raise ShareProblems(["group: one label per subject is needed"])
    present = labels != ""
    groups: list[dict[str, Any]] = []
    problems: list[str] = []
    for label in group_order(sorted({str(v) for v in labels[present]})):
        mask = labels == label
        n = int(mask.sum())
        if min_cell is not None and n < min_cell:
            problems.append(
                f"groups[{label!r}]: {n} subject(s), fewer than --min-cell {min_cell}; "
                "nothing written"
            )
        # + 0.0: -0.0 is the time 0.0 (never written as "-0.0").
        times, _, events, censored = tied_counts(t[mask] + 0.0, e[mask])
        groups.append(
            {"group": label, "times": times.tolist(), "events": events.tolist(),
             "censored": censored.tolist()}
        )  # fmt: skip
    if not groups:
        problems.append("time: no subjects to share")
    if problems:
        raise ShareProblems(problems)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "centre": centre.strip(),
        "source_sha256": source_sha256,
        "cartwatch_version": __version__,
        "analysis": analysis.model_dump(),
        "min_cell": min_cell,
        "excluded_missing_group": int((~present).sum()),
        "groups": groups,
    }
    payload["checksum_sha256"] = _checksum(payload)
    return payload


def sha256_of(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class PooledCounts:
    """Counts per group over all shares; times over all groups for the log-rank."""

    labels: tuple[str, ...]  # sorted as R orders factor levels (np.unique)
    time: npt.NDArray[np.float64]  # distinct times over every group
    at_time: npt.NDArray[Any]  # (times × groups) subjects whose follow-up ends there
    events: npt.NDArray[Any]  # (times × groups) events among them


def _check_compatible(shares: Sequence[tuple[str, Share]]) -> None:
    problems = []
    first_name, first = shares[0]
    seen_centre: dict[str, str] = {}
    seen_source: dict[str, str] = {}
    for name, share in shares:
        if share.analysis != first.analysis:
            for key, want in first.analysis.model_dump().items():
                got = getattr(share.analysis, key)
                if got != want:
                    problems.append(
                        f"{name}: analysis.{key}: {got!r} differs from {first_name} ({want!r}); "
                        "shares of one pool must count the same thing"
                    )
        if share.centre in seen_centre:
            problems.append(
                f"{name}: centre: {share.centre!r} is also {seen_centre[share.centre]} "
                "(a centre counted twice)"
            )
        if share.source_sha256 in seen_source:
            problems.append(
                f"{name}: source_sha256: same source as {seen_source[share.source_sha256]} "
                "(the same data shared twice)"
            )
        seen_centre.setdefault(share.centre, name)
        seen_source.setdefault(share.source_sha256, name)
    if problems:
        raise ShareProblems(problems)


def pooled_counts(shares: Sequence[Share]) -> PooledCounts:
    labels = tuple(sorted({g.group for s in shares for g in s.groups}))
    column = {label: j for j, label in enumerate(labels)}
    parts = [(column[g.group], g) for s in shares for g in s.groups]
    all_time = np.concatenate([np.asarray(g.times, dtype=np.float64) for _, g in parts])
    utime, inverse = np.unique(all_time, return_inverse=True)
    inverse = inverse.reshape(-1)
    cols = np.concatenate([np.full(len(g.times), j, dtype=np.int64) for j, g in parts])
    flat = inverse * len(labels) + cols
    size = utime.size * len(labels)
    d = np.concatenate([np.asarray(g.events, dtype=np.float64) for _, g in parts])
    c = np.concatenate([np.asarray(g.censored, dtype=np.float64) for _, g in parts])
    events = np.bincount(flat, weights=d, minlength=size).reshape(utime.size, len(labels))
    censored = np.bincount(flat, weights=c, minlength=size).reshape(utime.size, len(labels))
    return PooledCounts(labels, utime, events + censored, events)


def pool(
    shares: Sequence[tuple[str, Share]],
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> dict[str, object]:
    """The ``cartwatch km`` result of the pooled rows, from (file name, share) pairs.

    Raises :class:`ShareProblems` when the shares do not count the same thing (time, event,
    ADaM parameter or group variable differ), a centre or a source appears twice.
    """
    if not shares:
        raise ShareProblems(["shares: at least one share is needed"])
    _check_compatible(shares)
    counts = pooled_counts([s for _, s in shares])
    fits: dict[str, KaplanMeier] = {}
    for label in group_order(list(counts.labels)):
        j = counts.labels.index(label)
        at = counts.at_time[:, j] > 0
        d = counts.events[at, j].astype(np.int64)
        fits[label] = kaplan_meier_from_counts(
            counts.time[at], d, counts.at_time[at, j].astype(np.int64) - d, conf_type, conf_level
        )
    result = km_summary(fits, conf_type, conf_level)
    analysis = shares[0][1].analysis
    if analysis.group is not None:
        result["excluded_missing_group"] = sum(s.excluded_missing_group for _, s in shares)
        if len(fits) >= 2:
            lr = logrank_from_counts(counts.at_time, counts.events, counts.labels)
            result["logrank"] = logrank_summary(lr)
    result["analysis"] = analysis.model_dump()
    result["pooling"] = POOLING
    result["centres"] = [
        {
            "centre": s.centre,
            "file": name,
            "n": sum(g.n for g in s.groups),
            "events": sum(sum(g.events) for g in s.groups),
            "source_sha256": s.source_sha256,
            "cartwatch_version": s.cartwatch_version,
        }
        for name, s in shares
    ]
    return result
