"""Analysis-ready report tables computed from ADaM DataFrames (ADSL, ADRS, ADTTE, ADAE).

Each table is data (:class:`Table`: title, columns, rows of :class:`Cell`, footnotes, the
method, the population and its N), so the HTML, PDF, text and JSON renderings print the same
numbers, and every number a cell shows is also held in that cell's ``values`` (the JSON).

Conventions, chosen to report the way TRANSCEND CLL 004 and the US label did
(clinical-standards.md §3):

* Analysis sets from ADSL flags (``"Y"`` = in): enrolled ``ENRLFL``, safety ``SAFFL``
  (infused), efficacy-evaluable ``EFFFL``, PEAS ``PEASFL`` (§3.2 [S16]) and the US label
  efficacy population ``LABELFL`` (n = 65 in the label, §3.3 [S19][S26]). The *primary*
  efficacy population of the report is the label population when it is non-empty (the
  figures a centre compares with are the label's), else the efficacy-evaluable set, else the
  safety set; the report names it with its N everywhere.
* Response rates are k/N of the whole population with exact Clopper–Pearson 95% CIs
  (:func:`cartwatch.outcomes.rates.clopper_pearson`); a subject without a best overall
  response record counts as NE (not evaluable) in the denominator, as in the trial.
  ORR = CR + CRi + PR (iwCLL 2018, [S41]) + PR-L (contract v2 item 4; a footnote says so);
  CR/CRi is the trial's primary endpoint.
* uMRD: undetectable at 10⁻⁴ (uMRD4 or deeper), blood and marrow separately; rates are
  given over the whole population (Lancet PEAS style: 31/49) and over MRD-evaluable
  patients (a sample with a result), each with a Clopper–Pearson CI.
* Time-to-event: Kaplan–Meier with Greenwood variance and R ``survfit`` quantile rules
  (:mod:`cartwatch.outcomes.survival`); times in months = days / 30.4375 (365.25 / 12), so
  12/18/24-month landmarks are at 365.25/547.875/730.5 days.
* Safety in the safety set: per subject the maximum grade over all episodes of the category;
  onset (days after infusion, day 0 = infusion, as the trial reports) and duration of the
  first episode as median (IQR, R quantile type 7); the grading scale comes from
  ``ADAE.TOXGRSTD`` and is printed with each table, because the trial graded neurological
  events with another scale than ASTCT ICANS (clinical-standards.md §0 item 3).
* Percentages to 1 decimal, CIs as ``11.1–31.8``.

Modules: ``core`` (the table model, formats, analysis sets, best response), ``efficacy``
(baseline, response, uMRD, subgroups), ``tte`` (time to event) and ``safety``; their public
names are re-exported here, the package being the API (``tables.efficacy_table``).
"""

from __future__ import annotations

from cartwatch.outcomes.tables.core import (
    ANALYSIS_SETS,
    BOR_GROUPS,
    CP_METHOD,
    DAYS_PER_MONTH,
    LANDMARK_MONTHS,
    PR_L_FOOTNOTE,
    RESPONDER,
    RESPONSES,
    SET_NAMES,
    AdamData,
    Cell,
    Row,
    Table,
    analysis_sets_table,
    best_response,
    bor_group,
    codes,
    count_cell,
    flag,
    fmt_ci,
    fmt_num,
    fmt_pct,
    km_method,
    known_cell,
    parameter_rows,
    pct1,
    population,
    primary_efficacy_flag,
    rate_cells,
    rounded,
    set_label,
)
from cartwatch.outcomes.tables.efficacy import (
    SUBGROUPS,
    baseline_table,
    efficacy_table,
    mrd_table,
    subgroup_table,
    umrd_by_subject,
)
from cartwatch.outcomes.tables.safety import (
    CRS_CATEGORY,
    CRS_NOT_GRADABLE_FOOTNOTE,
    CYTOPENIA_CATEGORY,
    NT_CATEGORY,
    ae_incidence_table,
    crs_nt_table,
    cytopenia_table,
    management_table,
    scales,
)
from cartwatch.outcomes.tables.tte import (
    TTE_COLUMNS,
    TTE_PARAMS,
    KmFits,
    TteData,
    groups_by_response,
    km_fits,
    logrank_by_response,
    tte_cells,
    tte_data,
    tte_table,
)

__all__ = [
    "ANALYSIS_SETS",
    "BOR_GROUPS",
    "CP_METHOD",
    "CRS_CATEGORY",
    "CRS_NOT_GRADABLE_FOOTNOTE",
    "CYTOPENIA_CATEGORY",
    "DAYS_PER_MONTH",
    "LANDMARK_MONTHS",
    "NT_CATEGORY",
    "PR_L_FOOTNOTE",
    "RESPONDER",
    "RESPONSES",
    "SET_NAMES",
    "SUBGROUPS",
    "TTE_COLUMNS",
    "TTE_PARAMS",
    "AdamData",
    "Cell",
    "KmFits",
    "Row",
    "Table",
    "TteData",
    "ae_incidence_table",
    "analysis_sets_table",
    "baseline_table",
    "best_response",
    "bor_group",
    "codes",
    "count_cell",
    "crs_nt_table",
    "cytopenia_table",
    "efficacy_table",
    "flag",
    "fmt_ci",
    "fmt_num",
    "fmt_pct",
    "groups_by_response",
    "km_fits",
    "km_method",
    "known_cell",
    "logrank_by_response",
    "management_table",
    "mrd_table",
    "parameter_rows",
    "pct1",
    "population",
    "primary_efficacy_flag",
    "rate_cells",
    "rounded",
    "scales",
    "set_label",
    "subgroup_table",
    "tte_cells",
    "tte_data",
    "tte_table",
    "umrd_by_subject",
]
