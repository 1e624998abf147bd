"""``cartwatch federated share|pool``: parse, call ``cartwatch.interop.federated``, print.

``share`` reads a CSV (the same columns and checks as ``cartwatch km``) or an ADaM folder
(ADTTE AVAL/CNSR of one parameter, the group from ADTTE or ADSL) and writes the centre's
counts; ``pool`` reads shares and prints the pooled result with ``cartwatch km``'s keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

from cartwatch.cli.io import OUT_FLAGS, emit, fail, to_json
from cartwatch.cli.stats_commands import (
    CONF_TYPES,
    EventOption,
    EventValueOption,
    TimeOption,
    conf_level_option,
    format_option,
    km_text,
    survival_columns,
)

if TYPE_CHECKING:
    from cartwatch.interop.federated import Analysis

federated = typer.Typer(
    help="Federated Kaplan–Meier/log-rank: centres share counts, the network pools them.",
    no_args_is_help=True,
)

ADAM_PARAMS = ("PFS", "OS", "DOR")


class _Input(NamedTuple):
    time: Any  # float array, one per subject
    event: Any  # bool array
    labels: list[str] | None
    analysis: Analysis
    raw: bytes  # the source's bytes, for its sha256


def _min_cell(text: str | None, problems: list[str]) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        problems.append(f"min_cell: must be a whole number, got {text!r}")
        return None
    if value < 1:
        problems.append(f"min_cell: must be at least 1, got {value}")
    return value


def _from_csv(
    file: Path,
    time: str | None,
    event: str | None,
    event_value: str | None,
    group: str | None,
    problems: list[str],
) -> _Input | None:
    from cartwatch.interop.federated import Analysis

    columns = survival_columns(file, time, event, event_value, group, problems)
    if columns is None or time is None or event is None:
        return None
    labels = None if columns.labels is None else list(columns.labels)
    analysis = Analysis(source="csv", time=time, event=event, event_value=event_value, group=group)
    return _Input(
        columns.time.to_numpy(), columns.event.to_numpy(), labels, analysis, file.read_bytes()
    )


def _from_adam(
    folder: Path, param: str | None, group: str | None, problems: list[str]
) -> _Input | None:
    from cartwatch.adam.xpt import AdamReadError, read_adam_dir
    from cartwatch.interop.federated import Analysis

    if param is None or param.upper() not in ADAM_PARAMS:
        problems.append(
            f"param: must be one of {', '.join(ADAM_PARAMS)} with --adam, got {param!r}"
        )
        return None
    param = param.upper()
    try:
        datasets = read_adam_dir(folder, {"ADTTE": ("USUBJID", "PARAMCD", "AVAL", "CNSR")})
    except AdamReadError as exc:
        problems.extend(exc.problems)
        return None
    if "ADTTE" not in datasets:
        problems.append(f"{folder}: no ADTTE dataset (adtte.xpt or adtte.csv)")
        return None
    import pandas as pd

    adtte = datasets["ADTTE"].data
    rows = adtte[adtte["PARAMCD"].astype(str).str.strip() == param]
    if rows.empty:
        problems.append(f"ADTTE.PARAMCD: no {param} records")
        return None
    aval = pd.to_numeric(rows["AVAL"], errors="coerce")
    cnsr = pd.to_numeric(rows["CNSR"], errors="coerce")
    bad = aval.isna() | (aval < 0) | ~cnsr.isin([0, 1])
    if bad.any():
        problems.append(
            f"ADTTE: {int(bad.sum())} {param} record(s) with AVAL missing/negative or CNSR not 0/1"
        )
        return None
    labels: list[str] | None = None
    if group is not None:
        source = rows if group in rows.columns else None
        if source is None and "ADSL" in datasets and group in datasets["ADSL"].data.columns:
            adsl = datasets["ADSL"].data[["USUBJID", group]].drop_duplicates("USUBJID")
            source = rows[["USUBJID"]].merge(adsl, on="USUBJID", how="left")
        if source is None:
            problems.append(f"group: {group} is neither an ADTTE nor an ADSL variable")
            return None
        labels = ["" if pd.isna(v) else str(v).strip() for v in source[group].tolist()]
    analysis = Analysis(source="adam", time="AVAL", event="CNSR == 0", param=param, group=group)
    files = sorted(p for p in folder.iterdir() if p.stem.upper() in ("ADTTE", "ADSL"))
    raw = b"".join(p.read_bytes() for p in files)
    return _Input(aval.to_numpy(float), (cnsr == 0).to_numpy(), labels, analysis, raw)


@federated.command("share")
def share(
    file: Annotated[Path | None, typer.Argument(help="CSV file, one row per subject")] = None,
    time: TimeOption = None,
    event: EventOption = None,
    event_value: EventValueOption = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Group column (ADSL/ADTTE variable with --adam)")
    ] = None,
    centre: Annotated[str | None, typer.Option("--centre", help="Centre name")] = None,
    adam: Annotated[
        Path | None, typer.Option("--adam", help="ADaM folder instead of a CSV")
    ] = None,
    param: Annotated[
        str | None, typer.Option("--param", help="PFS, OS or DOR (with --adam)")
    ] = None,
    min_cell: Annotated[
        str | None,
        typer.Option("--min-cell", help="Refuse to write when a group has fewer subjects"),
    ] = None,
    out: Annotated[Path | None, typer.Option(*OUT_FLAGS, help="SHARE.json to write")] = None,
) -> None:
    """Write this centre's share: per group, distinct times with event and censoring counts."""
    from cartwatch.interop.federated import ShareProblems, make_share, sha256_of

    problems: list[str] = []
    k = _min_cell(min_cell, problems)
    if out is None:
        problems.append("out: required (--out SHARE.json)")
    if centre is None:
        problems.append("centre: required (--centre NAME)")
    if (file is None) == (adam is None):
        problems.append("input: give either a CSV file or --adam DIR (exactly one)")
        fail(problems)
    got = (
        _from_csv(file, time, event, event_value, group, problems)
        if file is not None
        else _from_adam(adam, param, group, problems)  # type: ignore[arg-type]
    )
    if problems or got is None or out is None or centre is None:
        fail(problems)
    t, e, labels, analysis, raw = got
    try:
        payload = make_share(
            t, e, labels, centre=centre, source_sha256=sha256_of(raw), analysis=analysis, min_cell=k
        )
    except ShareProblems as exc:
        fail(exc.problems)
    out.write_text(to_json(payload) + "\n", encoding="utf-8")
    n = sum(sum(g["events"]) + sum(g["censored"]) for g in payload["groups"])
    typer.echo(
        f"{payload['centre']}: {n} subjects in {len(payload['groups'])} group(s) → {out}", err=True
    )


@federated.command("pool")
def pool(
    shares: Annotated[list[Path], typer.Argument(help="SHARE.json files, one per centre")],
    conf_type: Annotated[str, typer.Option("--conf-type")] = "log-log",
    conf_level: Annotated[str, typer.Option("--conf-level")] = "0.95",
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "json",
) -> None:
    """Pooled Kaplan–Meier per group and log-rank, exactly as ``cartwatch km`` on the rows."""
    from cartwatch.interop import federated as fed

    problems: list[str] = []
    if conf_type not in CONF_TYPES:
        problems.append(f"conf_type: must be one of {', '.join(CONF_TYPES)}, got {conf_type!r}")
    level = conf_level_option(conf_level, problems)
    out_fmt = format_option(fmt, problems)
    parsed = []
    for path in shares:
        try:
            parsed.append((str(path), fed.parse_share(path.read_bytes(), str(path))))
        except OSError as exc:
            problems.append(f"{path}: cannot read file: {exc.strerror or exc}")
        except fed.ShareProblems as exc:
            problems.extend(exc.problems)
    if problems:
        fail(problems)
    try:
        result = fed.pool(parsed, conf_type, level)
    except fed.ShareProblems as exc:
        fail(exc.problems)
    if out_fmt == "text":
        centres = ", ".join(f"{c['centre']} (n {c['n']})" for c in result["centres"])  # type: ignore[attr-defined]
        typer.echo(f"{km_text(result)}\nCentres pooled: {centres}\nPooling: {fed.POOLING}")
    else:
        emit(result, out_fmt)


def register(app: typer.Typer) -> None:
    """Add ``federated share|pool`` to *app*."""
    app.add_typer(federated, name="federated")
