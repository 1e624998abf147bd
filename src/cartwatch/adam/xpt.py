"""Reading and writing ADaM datasets as SAS XPORT v5 and as CSV.

In-memory convention (every cartwatch ADaM DataFrame, derived or read):

* character variables: ``object`` columns of ``str``; a missing value is ``""`` (SAS has no
  character missing value, and the pilot files read back as ``""``), never ``NaN``/``None``;
* numeric variables: ``float64`` (XPORT stores every number as an 8-byte IBM double, so an
  integer column could not round-trip as ``int64``); missing = ``NaN``;
* date variables (ADaM ``*DT``): ``datetime64[ns]`` at midnight, missing = ``NaT``; on disk a
  SAS date (days since 1960-01-01) with the ``DATE9.`` format. ``*DTM`` variables are
  ``datetime64[ns]`` and SAS datetimes (seconds since 1960-01-01) with ``DATETIME20.``.

XPT: :func:`write_xpt` writes SAS XPORT **version 5** with ``pyreadstat.write_xport``
(``file_format_version=5``, ``table_name`` = dataset name, ``file_label`` = dataset label,
``column_labels``). It refuses what v5 cannot hold instead of truncating: names >8
characters, labels >40, character values >200 bytes or non-ASCII. pyreadstat sets each
character variable's stored length to the longest value present (at least 1); the specified
length in :mod:`cartwatch.adam.metadata` is enforced as a maximum. :func:`read_xpt` uses
``pyreadstat.read_xport``, which decodes IBM floats exactly: a stored 0 reads as 0.0.
``pandas.read_sas(format="xport")`` is never used, because it returns 5.397605346934028e-79
for 0 (pandas-dev/pandas#50670; shared/data/VALIDATION.md finding 2).

CSV (decision): ``<name>.csv`` holds the data (header = variable names, UTF-8, dates
``YYYY-MM-DD``, missing = empty field, integer variables as integers (``65``), other numbers in
shortest round-trip form), and a sidecar ``<name>.meta.json`` holds the dataset name and label
and, per variable, label, type, define.xml data type, length and format (a define.xml-like
minimum). The CSV alone stays readable by any tool
(R ``read.csv``, SAS ``PROC IMPORT``); with the sidecar it reads back identical to the
DataFrame written. Without a sidecar (CSV from another tool, e.g. pharmaverseadam written by
R with ``NA`` for missing) types are inferred: see :func:`read_adam_csv`.

:func:`read_adam_dir` reads every ``*.xpt``/``*.csv`` in a folder (file names
case-insensitive, dataset name = upper-cased stem), joins long text split over continuation
variables back into one value (:mod:`cartwatch.adam.long_text`) and checks the variables
cartwatch needs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cartwatch.adam.long_text import join_long_text
from cartwatch.adam.metadata import (
    DATASETS,
    DATE_FORMAT,
    XPT_V5_CHAR_MAX,
    XPT_V5_LABEL_MAX,
    XPT_V5_NAME_MAX,
    DatasetSpec,
)

SAS_EPOCH = pd.Timestamp("1960-01-01")
DATETIME_FORMAT = "DATETIME20."
META_SUFFIX = ".meta.json"

#: Character variables that other tools' CSVs hold as digits (e.g. pharmaverse SITEID "701")
#: and must not be turned into numbers when a CSV has no sidecar.
_KNOWN_CHAR: frozenset[str] = frozenset(
    {name for spec in DATASETS.values() for name in spec.char_variables()}
    | {"SUBJID", "SITEID", "SITEGR1", "ARMCD", "ACTARMCD", "AVISIT", "VISIT", "DOMAIN"}
)


class AdamReadError(ValueError):
    """An ADaM file could not be used; ``problems`` has one ``file: variable: message`` each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class DatasetMeta:
    """What a file says about a dataset besides its values."""

    name: str
    label: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    lengths: Mapping[str, int] = field(default_factory=dict)
    source: str = ""


# --------------------------------------------------------------------------- conventions


def is_date_name(name: str) -> bool:
    """ADaM naming: ``*DT`` is a numeric date (ADaMIG §3.1.6 rule 1)."""
    return name.upper().endswith("DT")


def is_datetime_name(name: str) -> bool:
    """ADaM naming: ``*DTM`` is a numeric datetime."""
    return name.upper().endswith("DTM")


def _char_column(s: pd.Series) -> pd.Series:
    """Strings with "" for missing (the XPT convention, applied to CSV and derived data too)."""
    if s.dtype == object and all(type(v) is str for v in s.to_numpy()):
        # Already the convention (the usual case for derived data): a copy, skipping the
        # per-value str() of astype(str). Exact type check, so anything unusual (a StrEnum,
        # a number) still goes the general way and comes out exactly as it always did.
        return s.astype(object)
    obj = s.astype(object)
    return obj.where(obj.notna(), "").astype(str).astype(object)


def conform(df: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """*df* with exactly the spec's variables, in order, in the in-memory convention.

    Raises ``ValueError`` naming any variable the spec has and *df* lacks, or extra columns.
    """
    missing = [n for n in spec.names if n not in df.columns]
    extra = [c for c in df.columns if c not in spec.names]
    if missing or extra:
        raise ValueError(f"{spec.name}: missing variables {missing}, unexpected {extra}")
    out = {}
    for v in spec.variables:
        col = df[v.name]
        if v.type == "Char":
            out[v.name] = _char_column(col).astype(object)
        elif v.is_date:
            if isinstance(col.dtype, np.dtype) and col.dtype.kind == "M":
                # Already naive datetime64 (any unit): to_datetime would only sample values
                # as Timestamps to decide on caching, then return the same values.
                out[v.name] = col.astype("datetime64[ns]").dt.normalize()
            else:
                out[v.name] = pd.to_datetime(col).astype("datetime64[ns]").dt.normalize()
        else:
            out[v.name] = pd.to_numeric(col).astype("float64")
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


# --------------------------------------------------------------------------- XPT


def _xpt_problems(
    df: pd.DataFrame,
    dataset_name: str,
    labels: Mapping[str, str],
    dataset_label: str,
    lengths: Mapping[str, int],
) -> list[str]:
    problems: list[str] = []
    if len(dataset_name) > XPT_V5_NAME_MAX:
        problems.append(f"{dataset_name}: dataset name longer than {XPT_V5_NAME_MAX}")
    if len(dataset_label) > XPT_V5_LABEL_MAX or not dataset_label.isascii():
        problems.append(f"{dataset_name}: dataset label must be ASCII, ≤{XPT_V5_LABEL_MAX}")
    for col in df.columns:
        where = f"{dataset_name}.{col}"
        if len(str(col)) > XPT_V5_NAME_MAX or not str(col).isascii():
            problems.append(f"{where}: variable name must be ASCII, ≤{XPT_V5_NAME_MAX} characters")
        label = labels.get(str(col), "")
        if len(label) > XPT_V5_LABEL_MAX or not label.isascii():
            problems.append(f"{where}: label must be ASCII, ≤{XPT_V5_LABEL_MAX} characters")
        if df[col].dtype == object:
            values = _char_column(df[col])
            limit = min(lengths.get(str(col), XPT_V5_CHAR_MAX), XPT_V5_CHAR_MAX)
            too_long = values[values.str.len() > limit]
            if len(too_long):
                problems.append(
                    f"{where}: value longer than {limit} characters: {too_long.iloc[0]!r}"
                )
            non_ascii = values[~values.map(str.isascii)]
            if len(non_ascii):
                problems.append(f"{where}: non-ASCII value {non_ascii.iloc[0]!r}")
    return problems


def _to_sas_numbers(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Dates → SAS day numbers (DATE9.), datetimes → SAS seconds (DATETIME20.), ints → float."""
    out = pd.DataFrame(index=df.index)
    formats: dict[str, str] = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            if is_datetime_name(str(col)):
                out[col] = (s - SAS_EPOCH).dt.total_seconds()
                formats[str(col)] = DATETIME_FORMAT
            else:
                # Whole days: a SAS date has no time part (ADaMIG *DT).
                out[col] = (s.dt.normalize() - SAS_EPOCH).dt.days.astype("float64")
                formats[str(col)] = DATE_FORMAT
        elif pd.api.types.is_bool_dtype(s):
            raise ValueError(f"{col}: boolean column; ADaM flags are 'Y'/'' character variables")
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float64")
        else:
            out[col] = _char_column(s)
    return out, formats


def write_xpt(
    df: pd.DataFrame,
    path: str | Path,
    dataset_name: str,
    labels: Mapping[str, str],
    *,
    dataset_label: str = "",
    lengths: Mapping[str, int] | None = None,
) -> None:
    """Write *df* as a SAS XPORT v5 file with variable labels and the dataset name/label.

    Raises ``ValueError`` listing every v5 limit broken (nothing is truncated silently).
    """
    name = dataset_name.upper()
    problems = _xpt_problems(df, name, labels, dataset_label, lengths or {})
    if problems:
        raise ValueError("\n".join(problems))
    data, formats = _to_sas_numbers(df)
    pyreadstat.write_xport(
        data,
        str(path),
        file_label=dataset_label,
        column_labels={str(c): labels.get(str(c)) for c in df.columns},
        table_name=name,
        file_format_version=5,
        variable_format=formats,
    )


def _sas_format(fmt: str) -> str:
    """A format in SAS's own spelling, with the dot: pyreadstat gives "DATE9" (≤1.2) or
    "DATE9." (1.3) for the same file; "8.2" and "$CHAR20." are already complete."""
    return fmt if "." in fmt else fmt + "."


def read_xpt(path: str | Path) -> tuple[pd.DataFrame, DatasetMeta]:
    """Read a SAS XPORT (v5 or v8) file with pyreadstat: exact zeros, labels, formats.

    Numeric variables with a DATE/DATETIME format come back as ``datetime64[ns]``; character
    missing values are ``""``; every other numeric variable is ``float64``.
    """
    try:
        df, meta = pyreadstat.read_xport(str(path), dates_as_pandas_datetime=True)
    except UnicodeDecodeError:
        # Older SAS files are latin-1 rather than UTF-8/ASCII.
        df, meta = pyreadstat.read_xport(
            str(path), dates_as_pandas_datetime=True, encoding="latin1"
        )
    formats = {k: _sas_format(v) for k, v in (meta.original_variable_types or {}).items() if v}
    types = meta.readstat_variable_types or {}
    for col in df.columns:
        fmt = formats.get(col, "").upper()
        if types.get(col) == "string":
            df[col] = _char_column(df[col]).astype(object)
        elif fmt.startswith(("DATE", "DATETIME", "E8601D", "YYMMDD", "IS8601D")):
            # An all-missing date column comes back as object; make it datetime64.
            df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
        else:
            df[col] = pd.to_numeric(df[col]).astype("float64")
    labels = {k: (v or "") for k, v in (meta.column_names_to_labels or {}).items()}
    return df, DatasetMeta(
        name=(meta.table_name or Path(path).stem).upper(),
        label=meta.file_label or "",
        labels=labels,
        formats=formats,
        lengths=dict(meta.variable_storage_width or {}),
        source=str(path),
    )


# --------------------------------------------------------------------------- CSV


def _meta_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + META_SUFFIX)


def write_adam_csv(df: pd.DataFrame, path: str | Path, spec: DatasetSpec) -> None:
    """Write *df* (conformed to *spec*) as CSV plus the ``.meta.json`` sidecar."""
    path = Path(path)
    data = conform(df, spec)
    text = data.copy()
    for v in spec.variables:
        if v.is_date:
            text[v.name] = data[v.name].dt.strftime("%Y-%m-%d").fillna("")
        elif v.integer:
            text[v.name] = _integer_text(data[v.name], f"{spec.name}.{v.name}")
        elif v.type == "Num":
            # repr() is the shortest string that reads back as the same double.
            text[v.name] = data[v.name].map(lambda x: "" if math.isnan(x) else repr(float(x)))
    text.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    sidecar = {
        "dataset": spec.name,
        "label": spec.label,
        "structure": spec.structure,
        "keys": list(spec.keys),
        "variables": [
            {
                "name": v.name,
                "label": v.label,
                "type": v.type,
                "datatype": v.datatype,
                "length": v.length,
                "format": v.format,
            }
            for v in spec.variables
        ],
    }
    _meta_path(path).write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")


def _integer_text(values: pd.Series, where: str) -> pd.Series:
    """Whole numbers as ``65`` (missing = ""); a fractional value is an error, never rounded."""
    x = values.to_numpy(dtype="float64")
    finite = np.isfinite(x)
    bad = ~np.isnan(x) & (~finite | (x != np.trunc(np.where(finite, x, 0.0))))
    if bad.any():
        raise ValueError(f"{where}: integer variable holds {float(x[bad][0])!r}")
    return pd.Series(
        ["" if math.isnan(v) else str(int(v)) for v in x.tolist()], index=values.index, dtype=object
    )


def _from_sas_number(values: pd.Series, *, seconds: bool) -> pd.Series:
    """SAS dates (days since 1960-01-01) or datetimes (seconds) → datetime64[ns]."""
    delta = pd.to_timedelta(values.to_numpy(dtype="float64"), unit="s" if seconds else "D")
    return pd.Series(SAS_EPOCH + delta, index=values.index).astype("datetime64[ns]")


def _parse_dates(s: pd.Series, where: str, *, datetime: bool, problems: list[str]) -> pd.Series:
    """ISO strings or SAS numbers (days, or seconds for *DTM) → datetime64[ns]."""
    text = s.fillna("").astype(str).str.strip()
    blank = text == ""
    numeric = pd.to_numeric(text.where(~blank), errors="coerce")
    if (numeric.notna() | blank).all():
        return _from_sas_number(numeric, seconds=datetime)
    parsed = pd.to_datetime(text.where(~blank), errors="coerce", format="ISO8601")
    bad = text[~blank & parsed.isna()]
    if len(bad):
        problems.append(f"{where}: not an ISO 8601 date or SAS date: {bad.iloc[0]!r}")
    if not datetime:
        parsed = parsed.dt.normalize()
    return parsed.astype("datetime64[ns]")


def _infer_csv_column(s: pd.Series, name: str, where: str, problems: list[str]) -> pd.Series:
    if is_datetime_name(name):
        return _parse_dates(s, where, datetime=True, problems=problems)
    if is_date_name(name):
        return _parse_dates(s, where, datetime=False, problems=problems)
    if name.upper() in _KNOWN_CHAR:
        return _char_column(s).astype(object)
    values = s.dropna()
    numeric = pd.to_numeric(values, errors="coerce")
    if len(values) and numeric.notna().all():
        return pd.to_numeric(s).astype("float64")
    if not len(values):
        # All missing: no evidence either way; character is the safe choice ("" not NaN).
        return _char_column(s).astype(object)
    return _char_column(s).astype(object)


def read_adam_csv(path: str | Path) -> tuple[pd.DataFrame, DatasetMeta]:
    """Read an ADaM CSV; with a ``.meta.json`` sidecar types and labels come from it.

    Without a sidecar: ``NA`` and empty fields are missing; ``*DT`` columns are dates (ISO
    strings or SAS day numbers), ``*DTM`` datetimes; columns whose every value is a number are
    ``float64`` except known character variables (``USUBJID``, ``SITEID``…); the rest are
    character with ``""`` for missing. Raises :class:`AdamReadError` for unparseable dates.
    """
    path = Path(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=["", "NA"])
    problems: list[str] = []
    sidecar = _meta_path(path)
    labels: dict[str, str] = {}
    formats: dict[str, str] = {}
    lengths: dict[str, int] = {}
    name, label = path.stem.upper(), ""
    out: dict[str, pd.Series] = {}
    if sidecar.is_file():
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        name, label = str(meta.get("dataset", name)), str(meta.get("label", ""))
        declared = {str(v["name"]): v for v in meta.get("variables", [])}
    else:
        declared = {}
    for col in raw.columns:
        where = f"{path.name}: {col}"
        var = declared.get(col)
        if var is None:
            out[col] = _infer_csv_column(raw[col], col, where, problems)
            continue
        labels[col] = str(var.get("label") or "")
        lengths[col] = int(var.get("length") or 8)
        fmt = str(var.get("format") or "")
        if fmt:
            formats[col] = fmt
        if var.get("type") == "Char":
            out[col] = _char_column(raw[col]).astype(object)
        elif fmt.upper().startswith("DATE"):
            out[col] = _parse_dates(
                raw[col], where, datetime=fmt.upper().startswith("DATETIME"), problems=problems
            )
        else:
            numbers = pd.to_numeric(raw[col], errors="coerce")
            bad = raw[col][raw[col].notna() & numbers.isna()]
            if len(bad):
                problems.append(f"{where}: not a number: {bad.iloc[0]!r}")
            out[col] = numbers.astype("float64")
    if problems:
        raise AdamReadError(problems)
    df = pd.DataFrame(out, index=pd.RangeIndex(len(raw)))
    return df, DatasetMeta(name, label, labels, formats, lengths, str(path))


# --------------------------------------------------------------------------- folders


def spec_for(name: str) -> DatasetSpec | None:
    """The cartwatch spec a dataset name maps to: ``ADRS`` and ``ADRS_ONCO`` → ADRS."""
    upper = name.upper()
    return DATASETS.get(upper) or DATASETS.get(upper.split("_")[0])


@dataclass(frozen=True)
class AdamDataset:
    data: pd.DataFrame
    meta: DatasetMeta


def read_adam_dir(
    path: str | Path,
    required: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, AdamDataset]:
    """Read every ``*.xpt`` and ``*.csv`` in *path* (not recursive), keyed by dataset name.

    File names are matched case-insensitively (``adsl.xpt``, ``ADSL.csv``); when a dataset is
    present as both, the XPT is read. *required* maps dataset names to variables that must be
    present; by default each known dataset's ``required_on_read``. Raises
    :class:`AdamReadError` listing every ``file: variable: problem`` found.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise AdamReadError([f"{folder}: not a folder"])
    files: dict[str, Path] = {}
    for f in sorted(folder.iterdir()):
        suffix = f.suffix.lower()
        if not f.is_file() or suffix not in (".xpt", ".csv"):
            continue
        key = f.stem.upper()
        if key not in files or suffix == ".xpt":
            files[key] = f
    problems: list[str] = []
    result: dict[str, AdamDataset] = {}
    for key, f in files.items():
        try:
            if f.suffix.lower() == ".xpt":
                df, meta = read_xpt(f)
            else:
                df, meta = read_adam_csv(f)
        except AdamReadError as exc:
            problems.extend(exc.problems)
            continue
        except (OSError, ValueError, pyreadstat.ReadstatError) as exc:
            problems.append(f"{f.name}: cannot be read: {exc}")
            continue
        if required is not None:
            needed: Sequence[str] = required.get(key, ())
        else:
            spec = spec_for(key)
            needed = spec.required_on_read if spec else ()
        columns = {c.upper() for c in df.columns}
        problems.extend(
            f"{f.name}: {var}: required variable missing" for var in needed if var not in columns
        )
        df = join_long_text(df, spec_for(key))
        result[key] = AdamDataset(_normalise_dates(df, meta), meta)
    if problems:
        raise AdamReadError(problems)
    return result


def _normalise_dates(df: pd.DataFrame, meta: DatasetMeta) -> pd.DataFrame:
    """XPT from other tools may store ``*DT`` as plain SAS day numbers without a format."""
    for col in df.columns:
        if is_date_name(col) and df[col].dtype == np.float64 and col not in meta.formats:
            df[col] = _from_sas_number(df[col], seconds=is_datetime_name(col))
    return df
