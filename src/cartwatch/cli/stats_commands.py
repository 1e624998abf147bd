"""``cartwatch rate`` and ``cartwatch km``: parse, call ``cartwatch.outcomes``, print.

Options arrive as text and are checked here so that every bad value is reported as a
``field: problem`` line (exit 2, nothing on stdout), as the CLI contract requires; the
statistics live in :mod:`cartwatch.outcomes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cartwatch.cli.io import OutputFormat, emit, fail

if TYPE_CHECKING:
    import pandas as pd

# pandas and the statistics are imported inside the commands: every `cartwatch` start
# imports this module, and grading commands should not pay for pandas/scipy.
CONF_TYPES = ("log-log", "log", "plain")

FORMATS = ("json", "text")
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}

# The survival-column options, shared by ``km``, ``fit cure`` and ``federated share``.
TimeOption = Annotated[str | None, typer.Option("--time", help="Time column")]
EventOption = Annotated[str | None, typer.Option("--event", help="Event column")]
EventValueOption = Annotated[
    str | None, typer.Option("--event-value", help="Value of --event meaning an event")
]
GroupOption = Annotated[str | None, typer.Option("--group", help="Group column")]


def _int(name: str, text: str | None, problems: list[str]) -> int | None:
    if text is None:
        problems.append(f"{name}: required")
        return None
    try:
        return int(text.strip())
    except ValueError:
        problems.append(f"{name}: must be a whole number, got {text!r}")
        return None


def conf_level_option(text: str, problems: list[str]) -> float:
    try:
        value = float(text)
    except ValueError:
        problems.append(f"conf_level: must be a number between 0 and 1, got {text!r}")
        return 0.95
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        problems.append(f"conf_level: must be strictly between 0 and 1, got {text}")
    return value


def format_option(text: str, problems: list[str]) -> OutputFormat:
    if text not in FORMATS:
        problems.append(f"format: must be one of {', '.join(FORMATS)}, got {text!r}")
        return OutputFormat("json")
    # io.OutputFormat is the shared json/text choice; build it from the value.
    return OutputFormat(text)


def rate(
    responders: Annotated[str | None, typer.Option("--responders", help="Responders k")] = None,
    n: Annotated[str | None, typer.Option("--n", help="Evaluable subjects n")] = None,
    conf_level: Annotated[str, typer.Option("--conf-level")] = "0.95",
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "json",
) -> None:
    """Response rate k/n with an exact Clopper–Pearson confidence interval."""
    from cartwatch.outcomes.rates import clopper_pearson

    problems: list[str] = []
    k = _int("responders", responders, problems)
    total = _int("n", n, problems)
    level = conf_level_option(conf_level, problems)
    out_fmt = format_option(fmt, problems)
    if k is not None and k < 0:
        problems.append(f"responders: must not be negative, got {k}")
    if total is not None and total < 1:
        problems.append(f"n: must be at least 1, got {total}")
    if k is not None and total is not None and total >= 1 and k > total:
        problems.append(f"responders: {k} exceeds n ({total})")
    if problems or k is None or total is None:
        fail(problems)
    emit(clopper_pearson(k, total, level).to_dict(), out_fmt)


def read_csv(path: Path, problems: list[str]) -> pd.DataFrame | None:
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(f"{path}: cannot read CSV ({exc})")
    return None


def time_column(df: pd.DataFrame, col: str, problems: list[str]) -> pd.Series | None:
    import pandas as pd

    raw = df[col].str.strip()
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() | ~values.map(lambda v: math.isfinite(v) if v == v else False)
    if bad.any():
        rows = ", ".join(str(i + 2) for i in list(df.index[bad])[:5])  # +2: header, 1-based
        problems.append(f"{col}: {int(bad.sum())} non-numeric or missing time(s) (CSV line {rows})")
        return None
    if (values < 0).any():
        problems.append(f"{col}: {int((values < 0).sum())} negative time(s)")
        return None
    return values.astype(float)


def event_column(
    df: pd.DataFrame, col: str, event_value: str | None, problems: list[str]
) -> pd.Series | None:
    raw = df[col].str.strip()
    if event_value is not None:
        if raw.eq("").any():
            problems.append(f"{col}: {int(raw.eq('').sum())} missing event value(s)")
            return None
        return raw == event_value.strip()
    lowered = raw.str.lower()
    ok = lowered.isin(_TRUE | _FALSE)
    if not ok.all():
        shown = ", ".join(sorted(set(raw[~ok]))[:5])
        problems.append(
            f"{col}: values must be 0/1 or true/false (got {shown}); "
            "use --event-value to name the event code"
        )
        return None
    return lowered.isin(_TRUE)


@dataclass(frozen=True)
class SurvivalColumns:
    """A one-row-per-subject CSV's time, event and (optional) group columns, checked."""

    frame: pd.DataFrame
    time: pd.Series
    event: pd.Series
    labels: pd.Series | None  # stripped group labels, "" where missing


def survival_columns(
    file: Path,
    time: str | None,
    event: str | None,
    event_value: str | None,
    group: str | None,
    problems: list[str],
    *,
    alternative: str = "",
) -> SurvivalColumns | None:
    """Read *file* and check its survival columns; each problem becomes a ``field: problem``
    line in *problems* (``km``, ``fit cure`` and ``federated share`` read CSVs alike).
    *alternative* is appended to the "required" problems, e.g. ", or --param for ADaM"."""
    if time is None:
        problems.append(f"time: required (--time COLUMN){alternative}")
    if event is None:
        problems.append(f"event: required (--event COLUMN){alternative}")
    df = read_csv(file, problems)
    if df is None or time is None or event is None:
        return None
    missing = [c for c in (time, event, group) if c is not None and c not in df.columns]
    problems.extend(f"{c}: no such column in {file.name}" for c in missing)
    if missing:
        return None
    t = time_column(df, time, problems)
    e = event_column(df, event, event_value, problems)
    if df.empty:
        problems.append(f"{file.name}: no data rows")
    if t is None or e is None or df.empty:
        return None
    return SurvivalColumns(df, t, e, df[group].str.strip() if group else None)


def km(
    file: Annotated[Path, typer.Argument(help="CSV file with one row per subject")],
    time: TimeOption = None,
    event: EventOption = None,
    event_value: EventValueOption = None,
    group: GroupOption = None,
    conf_type: Annotated[str, typer.Option("--conf-type")] = "log-log",
    conf_level: Annotated[str, typer.Option("--conf-level")] = "0.95",
    quantiles: Annotated[
        str | None,
        typer.Option(
            "--quantiles",
            help="Also report these quantiles, e.g. 0.25,0.75 (p = share with the event; "
            "R quantile() rule)",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "json",
) -> None:
    """Kaplan–Meier medians with CIs as R print(survfit) shows them, per group, plus log-rank."""
    problems: list[str] = []
    probs = _probabilities(quantiles, problems)
    if conf_type not in CONF_TYPES:
        problems.append(f"conf_type: must be one of {', '.join(CONF_TYPES)}, got {conf_type!r}")
    level = conf_level_option(conf_level, problems)
    out_fmt = format_option(fmt, problems)
    columns = survival_columns(file, time, event, event_value, group, problems)
    if problems or columns is None:
        fail(problems)
    result = _km_result(columns, conf_type, level, probs)
    if out_fmt == "text":
        typer.echo(km_text(result))
    else:
        emit(result, out_fmt)


def _probabilities(text: str | None, problems: list[str]) -> list[float]:
    """``--quantiles 0.25,0.75`` → [0.25, 0.75]; each strictly between 0 and 1."""
    if text is None:
        return []
    out: list[float] = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            problems.append(f"quantiles: {part.strip()!r} is not a number")
            continue
        if not (math.isfinite(value) and 0.0 < value < 1.0):
            problems.append(f"quantiles: {part.strip()} must be strictly between 0 and 1")
            continue
        out.append(value)
    return out


def _km_result(
    columns: SurvivalColumns, conf_type: str, level: float, probs: list[float]
) -> dict[str, object]:
    import pandas as pd

    from cartwatch.outcomes.km_summary import group_order, km_summary, logrank_summary
    from cartwatch.outcomes.logrank import logrank_test
    from cartwatch.outcomes.survival import kaplan_meier

    t, e, grouped = columns.time, columns.event, columns.labels is not None
    labels = columns.labels if columns.labels is not None else pd.Series("all", index=t.index)
    present = labels != ""
    fits = {}
    for label in group_order(sorted(set(labels[present]))):
        m = (labels == label).to_numpy()
        fits[label] = kaplan_meier(t[m].to_numpy(), e[m].to_numpy(), conf_type, level)
    result = km_summary(fits, conf_type, level, probs)
    if grouped:
        result["excluded_missing_group"] = int((~present).sum())
        if len(fits) >= 2:
            keep = present.to_numpy()
            lr = logrank_test(t[keep].to_numpy(), e[keep].to_numpy(), labels[keep].to_numpy())
            result["logrank"] = logrank_summary(lr)
    return result


_STATUS_TEXT = {"not_reached": "NR", "not_estimable": "NE"}


def _time_text(value: object, status: object) -> str:
    if isinstance(value, float | int):
        return f"{value:g}"
    return _STATUS_TEXT.get(str(status), "NR")


def km_text(result: dict[str, object]) -> str:
    """The median table as a person reads it: ``4 (2, NE)``, with NR / NE explained."""
    level = f"{float(str(result['conf_level'])) * 100:g}% CI, {result['conf_type']}"
    rows = [("group", "n", "events", f"median ({level})")]
    for g in result["groups"]:  # type: ignore[attr-defined]
        lo, hi = g["ci"]
        lo_status, hi_status = g["ci_status"]
        median = _time_text(g["median"], g["median_status"])
        ci = f"{_time_text(lo, lo_status)}, {_time_text(hi, hi_status)}"
        rows.append((str(g["group"]), str(g["n"]), str(g["events"]), f"{median} ({ci})"))
        for q in g.get("quantiles", []):
            qlo, qhi = q["ci"]
            qlo_status, qhi_status = q["ci_status"]
            rows.append(
                (
                    f"  {q['p'] * 100:g}% quantile",
                    "",
                    "",
                    f"{_time_text(q['time'], q['status'])} "
                    f"({_time_text(qlo, qlo_status)}, {_time_text(qhi, qhi_status)})",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines += ["", str(result["status_legend"]), f"Median rule: {result['median_rule']}"]
    if "quantile_rule" in result:
        lines.append(f"Quantile rule: {result['quantile_rule']}")
    lr = result.get("logrank")
    if isinstance(lr, dict):
        lines.append(f"Log-rank: chi-squared {lr['chisq']:.4g} on {lr['df']} df, p = {lr['p']:.4g}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``rate`` and ``km`` to *app*."""
    app.command("rate")(rate)
    app.command("km")(km)
