"""The outcomes report: tables and figures from ADaM, rendered as HTML, PDF, text or JSON.

:func:`build_report` computes everything once (a :class:`Report`: metadata, sections of
:mod:`cartwatch.outcomes.tables` tables and figures, and the headline figures); the renderers
(:mod:`cartwatch.outcomes.report_render`) only format it, so every rendering shows the same
numbers and the JSON holds every number the others show (each table cell carries its numbers;
each figure its plotted data: numbers at risk, medians, subgroup rates). The figures are drawn
in :mod:`cartwatch.outcomes.report_figures`.

* HTML is one self-contained file: CSS inline, figures as inline base64 PNG, no external
  asset (a report is mailed and archived; a link to a server would rot).
* PDF is WeasyPrint applied to the same HTML, with print CSS (A4, page numbers, tables and
  figures never split across pages).
* The header names the data source, the data cut-off, every analysis set with its N, the
  cartwatch version and the generation time; each section states its method.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import cartwatch
from cartwatch.outcomes import remission as rm
from cartwatch.outcomes import tables as tb
from cartwatch.outcomes.report_figures import (
    FIGURE_DPI,
    ReportFigure,
    encode_png,
    forest_figure,
    km_figure,
    risk_ticks,
    swimmer_figure,
    toxicity_figure,
)
from cartwatch.outcomes.survival import CONF_TYPES, kaplan_meier, numbers_at_risk

REPORT_TITLE = "cartwatch outcomes report: liso-cel in relapsed/refractory CLL/SLL"


class ReportInputError(ValueError):
    """The datasets cannot make a report; ``problems`` are ``field: problem`` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    method: str
    tables: tuple[tb.Table, ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "method": self.method,
            "notes": list(self.notes),
            "tables": [t.to_dict() for t in self.tables],
            "figures": [f.to_dict() for f in self.figures],
        }


@dataclass(frozen=True)
class Report:
    meta: Mapping[str, object]
    headline: Mapping[str, Mapping[str, object]]
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "meta": dict(self.meta),
            "headline": {k: dict(v) for k, v in self.headline.items()},
            "sections": [s.to_dict() for s in self.sections],
        }

    def table(self, key: str) -> tb.Table:
        for s in self.sections:
            for t in s.tables:
                if t.key == key:
                    return t
        raise KeyError(f"report has no table {key!r}")

    def figure(self, key: str) -> ReportFigure:
        for s in self.sections:
            for f in s.figures:
                if f.key == key:
                    return f
        raise KeyError(f"report has no figure {key!r}")


# --------------------------------------------------------------------------- input


def _frames_from_dir(path: Path) -> dict[str, pd.DataFrame]:
    # Imported here: reading XPT needs pyreadstat, which in-memory callers never load.
    from cartwatch.adam.xpt import AdamReadError, read_adam_dir

    try:
        return {name: ds.data for name, ds in read_adam_dir(path).items()}
    except AdamReadError as exc:
        raise ReportInputError(exc.problems) from exc


def load_datasets(source: str | Path | Mapping[str, pd.DataFrame] | tb.AdamData) -> tb.AdamData:
    """ADSL (required), ADRS, ADTTE, ADAE from a folder, a mapping or an :class:`AdamData`."""
    if isinstance(source, tb.AdamData):
        return source
    frames = _frames_from_dir(Path(source)) if isinstance(source, str | Path) else source
    upper = {k.upper(): v for k, v in frames.items()}

    def get(name: str) -> pd.DataFrame | None:
        # "ADRS_ONCO" / "ADTTE_ONCO" from other tools map to ADRS / ADTTE.
        if name in upper:
            return upper[name]
        return next((v for k, v in upper.items() if k.split("_")[0] == name), None)

    adsl = get("ADSL")
    problems: list[str] = []
    if adsl is None:
        problems.append("ADSL: required dataset missing")
    elif "USUBJID" not in adsl.columns:
        problems.append("ADSL: USUBJID: required variable missing")
    elif not tb.flag(adsl, "SAFFL").any():
        problems.append("ADSL: SAFFL: no subject is in the safety set (SAFFL = Y)")
    if problems or adsl is None:
        raise ReportInputError(problems)
    return tb.AdamData(adsl=adsl, adrs=get("ADRS"), adtte=get("ADTTE"), adae=get("ADAE"))


def _subgroup_section(
    subgroups: tb.Table,
    forest: ReportFigure | None,
    pfs: rm.PfsBySubject | None,
    pop_label: str,
    dpi: int,
) -> Section:
    """ORR by subgroup (exact CIs) and, with ADTTE PFS, PFS by high-risk marker with a KM."""
    from cartwatch.outcomes.plots import km_plot

    tables: tuple[tb.Table, ...] = (subgroups,)
    figures: tuple[ReportFigure, ...] = (forest,) if forest else ()
    notes: tuple[str, ...] = ()
    if pfs is None:
        notes = ("No ADTTE PFS: PFS by high-risk subgroup not available.",)
    else:
        groups = rm.high_risk_groups(pfs)
        if groups:
            tables += (rm.high_risk_pfs_table(pfs, groups, pop_label),)
        masks = rm.del17p_or_tp53(pfs)
        if masks:
            curves = {k: kaplan_meier(pfs.months[m], pfs.event[m]) for k, m in masks.items()}
            ticks = risk_ticks(float(np.max(pfs.months)))
            title = "PFS by del(17p)/TP53 aberration"
            fig = km_plot(
                curves,
                title=title,
                xlabel="Months after infusion",
                ylabel="Probability",
                risk_times=ticks,
                width=7.5,
                height=4.9,
            )
            figures += (
                ReportFigure(
                    key="km_pfs_by_del17p_tp53",
                    title=title,
                    caption=(
                        f"{pop_label}. {tb.km_method('log-log')}. del(17p) and/or TP53 "
                        "mutation against neither (unknown on both: not shown)."
                    ),
                    png_base64=encode_png(fig, dpi),
                    data={
                        "groups": [
                            {
                                "group": k,
                                "n": km.n,
                                "events": km.events,
                                "numbers_at_risk": numbers_at_risk(km, ticks),
                            }
                            for k, km in curves.items()
                        ],
                        "risk_times": ticks,
                    },
                ),
            )
    return Section(
        "subgroups",
        "High-risk disease: response and PFS by subgroup",
        f"ORR within subgroups; {tb.CP_METHOD}; PFS by Kaplan–Meier",
        tables,
        figures,
        notes,
    )


def _remission_section(
    pfs: rm.PfsBySubject | None, adrs: pd.DataFrame | None, pop_label: str, dpi: int
) -> Section:
    """PFS plateau by best response with the fitted cure curve over the KM."""
    from cartwatch.research.cure_report import cure_figure

    if pfs is None:
        return Section(
            "long_term_remission",
            "Long-term remission",
            rm.CURE_METHOD,
            (),
            (),
            ("No ADTTE PFS: long-term remission analyses not available.",),
        )
    groups = rm.remission_groups(pfs, adrs)
    fits = rm.remission_fits(pfs, groups)
    table = rm.remission_table(pfs, groups, fits, pop_label)
    shown = [(k, m) for k, m in groups.items() if k != "All patients" and fits[k] is not None]
    figures: tuple[ReportFigure, ...] = ()
    if shown:
        fitted = [fit for k, _ in shown if (fit := fits[k]) is not None]
        title = "PFS by best response with the fitted cure model"
        fig = cure_figure(
            [(k, pfs.months[m], pfs.event[m].astype(float)) for k, m in shown],
            fitted,
            title=title,
            unit="months after infusion",
        )
        figures = (
            ReportFigure(
                key="pfs_cure_by_response",
                title=title,
                caption=(
                    f"{pop_label}. Steps: Kaplan–Meier PFS; dashed: Weibull mixture cure "
                    "model; dotted: its cure fraction. Descriptive (best response is "
                    "post-baseline)."
                ),
                png_base64=encode_png(fig, dpi),
                data={"groups": [f.to_dict() for f in fitted]},
            ),
        )
    return Section(
        "long_term_remission",
        "Long-term remission",
        rm.CURE_METHOD,
        (table,),
        figures,
        (),
    )


# --------------------------------------------------------------------------- build


def _cut_off(adsl: pd.DataFrame) -> str:
    if "DCUTDT" not in adsl.columns:
        return "not recorded (ADSL.DCUTDT absent)"
    d = pd.to_datetime(adsl["DCUTDT"], errors="coerce").dropna()
    return d.max().date().isoformat() if not d.empty else "not recorded"


def _headline(data: tb.AdamData, efficacy: tb.Table, crs: tb.Table) -> dict[str, dict[str, object]]:
    # An empty population (no patient infused yet) gives cells without a rate: the headline
    # still has every key, with None for what cannot be computed.
    empty: dict[str, object] = {"k": 0, "n": 0, "percent": None, "ci_percent": None}

    def first_pair(row: tb.Row) -> dict[str, object]:
        return {**empty, **row.cells[0].values}

    def safety(row_key: str, col: int) -> dict[str, object]:
        return {**empty, **crs.row(row_key).cells[col].values}

    return {
        "cr_cri": {"population": efficacy.population, **first_pair(efficacy.row("CR_CRI"))},
        "orr": {"population": efficacy.population, **first_pair(efficacy.row("ORR"))},
        "crs_any": {"population": crs.population, **safety("any", 0)},
        "crs_grade_ge_3": {"population": crs.population, **safety("grade_ge_3", 0)},
        "neurotox_any": {"population": crs.population, **safety("any", 1)},
        "neurotox_grade_ge_3": {"population": crs.population, **safety("grade_ge_3", 1)},
    }


def build_report(
    source: str | Path | Mapping[str, pd.DataFrame] | tb.AdamData,
    conf_type: str = "log-log",
    *,
    source_label: str | None = None,
    generated_at: dt.datetime | None = None,
    figure_dpi: int = FIGURE_DPI,
) -> Report:
    """Compute every table and figure of the report from ADaM datasets.

    *source* is an ADaM folder (``*.xpt``/``*.csv``, read with ``read_adam_dir``), a mapping
    of dataset name → DataFrame, or an :class:`~cartwatch.outcomes.tables.AdamData`.
    *conf_type* is the KM CI transform (``log-log`` default, ``log``, ``plain``).
    Raises :class:`ReportInputError` on unusable input.
    """
    if conf_type not in CONF_TYPES:
        raise ReportInputError([f"conf_type: must be one of {', '.join(CONF_TYPES)}"])
    data = load_datasets(source)
    adsl = data.adsl
    eff = tb.primary_efficacy_flag(adsl)
    eff_label = tb.set_label(adsl, eff)
    efficacy = tb.efficacy_table(adsl, data.adrs, eff)
    crs = tb.crs_nt_table(adsl, data.adae)
    tte = tb.tte_data(adsl, data.adrs, data.adtte, eff)
    fits = {d.paramcd: tb.km_fits(d, conf_type) for d in tte}  # shared by table and figures
    subgroups = tb.subgroup_table(adsl, data.adrs, eff)
    forest = forest_figure(subgroups, figure_dpi)
    pfs = rm.pfs_by_subject(data, eff)
    km_figs = tuple(
        km_figure(d, fits[d.paramcd], eff_label, conf_type, figure_dpi)
        for d in tte
        if d.paramcd in ("PFS", "OS", "DOR") and fits[d.paramcd].groups
    )
    ae_table = tb.ae_incidence_table(adsl, data.adae)
    swimmer = swimmer_figure(data, eff, figure_dpi)
    tox_fig = toxicity_figure(adsl, data.adae, figure_dpi)
    generated = generated_at or dt.datetime.now(dt.UTC)
    meta: dict[str, object] = {
        "title": REPORT_TITLE,
        "data_source": source_label
        or (str(source) if isinstance(source, str | Path) else "in-memory ADaM datasets"),
        "data_cutoff": _cut_off(adsl),
        "cartwatch_version": cartwatch.__version__,
        "generated_at": generated.isoformat(timespec="seconds"),
        "primary_efficacy_population": {"flag": eff, "label": eff_label},
        "conf_type": conf_type,
        "analysis_sets": [
            {"flag": f, "name": name, "n": int(tb.flag(adsl, f).sum()), "definition": d}
            for f, name, d in tb.ANALYSIS_SETS
            if f in adsl.columns
        ],
    }
    sections = (
        Section(
            "analysis_sets",
            "Analysis sets",
            "ADSL population flags",
            (tb.analysis_sets_table(adsl),),
        ),
        Section(
            "baseline",
            "Baseline characteristics",
            "n (%); median (range)",
            (tb.baseline_table(adsl, eff),),
        ),
        Section(
            "efficacy",
            "Efficacy",
            f"Best overall response per iwCLL 2018; {tb.CP_METHOD}",
            (efficacy, tb.mrd_table(adsl, data.adrs, eff)),
        ),
        Section(
            "time_to_event",
            "Duration of response, PFS and OS",
            tb.km_method(conf_type),
            (tb.tte_table(tte, adsl, eff, conf_type, fits),) if tte else (),
            km_figs + ((swimmer,) if swimmer else ()),
            () if tte else ("No ADTTE dataset: time-to-event analyses not available.",),
        ),
        Section(
            "safety",
            "Safety",
            "Safety set; maximum grade per patient; grading scale named per table",
            tuple(
                t
                for t in (
                    crs,
                    tb.management_table(adsl, data.adae),
                    tb.cytopenia_table(adsl, data.adae),
                    ae_table,
                )
                if t is not None
            ),
            (tox_fig,) if tox_fig else (),
        ),
        _subgroup_section(subgroups, forest, pfs, eff_label, figure_dpi),
        _remission_section(pfs, data.adrs, eff_label, figure_dpi),
    )
    return Report(meta=meta, headline=_headline(data, efficacy, crs), sections=sections)
