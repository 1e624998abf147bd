"""ADaM variable metadata for the datasets cartwatch derives (ADSL, ADRS, ADTTE, ADAE).

The specifications are data, one :class:`DatasetSpec` per dataset, in the column order the
datasets are written. They follow the CDISC ADaM Implementation Guide (ADaMIG v1.3):

* ADSL is the subject-level dataset (ADaMIG §3.1), one record per subject;
* ADRS is a BDS dataset (ADaMIG §3.2) with ``PARAMCD``/``AVALC``/``AVAL``;
* ADTTE is a BDS time-to-event dataset (ADaM BDS-TTE v1.0): ``STARTDT``, ``ADT``, ``AVAL``,
  ``CNSR`` (0 = event, positive = censored), ``EVNTDESC``, ``CNSDTDSC``;
* ADAE follows the ADaM OCCDS structure (ADaM OCCDS v1.0).

SAS XPORT version 5 limits, which every spec here respects (checked by the unit tests and by
:func:`cartwatch.adam.xpt.write_xpt`): variable names ≤8 characters (letters, digits,
underscore, not starting with a digit), variable and dataset labels ≤40 characters, character
values ≤200 bytes, ASCII only (the FDA Study Data Technical Conformance Guide asks for ASCII
in v5 transport files). Numeric variables are 8-byte doubles; dates are SAS dates (days since
1960-01-01) carrying the ``DATE9.`` format, held in pandas as ``datetime64[ns]``.

Long text (reasons longer than 200 bytes). XPT v5 holds at most 200 bytes per character
value, and ADaM has no supplemental-qualifier datasets, so cartwatch follows the CDISC
convention for text over 200 characters (SDTMIG §4.5.3.2: the first 200 characters in the
variable, each further ≤200 in a continuation; in SDTM a ``SUPP--`` record with QNAM
``--VAR1``, ``--VAR2``…) with continuation *variables* in the same dataset, the ADaMIG way
of naming an index (suffix digit, name ≤8 characters): ``ATOXREAS``, ``ATOXREA1``,
``ATOXREA2``, … and ``AVALREAS``, ``AVALREA1``, …; labels end in the index ("Reasons for
Toxicity Grade (Engine) 1"). A dataset carries as many continuation variables as its longest
value needs (none when every value fits). Text is cut between words where it can be: each
segment but the last ends before a space, and the next segment starts with that space, so the
full text is the plain concatenation of the segments (R ``paste0(ATOXREAS, ATOXREA1, …)``,
SAS ``cats`` would drop the space: use ``trim(ATOXREAS) || ATOXREA1``); a word longer than
200 characters is cut inside the word. Nothing is cut off: in memory (derived or read back
by :func:`cartwatch.adam.xpt.read_adam_dir`) the variable holds the whole text. Variables
that may hold long text have ``continued=True``.

Integers. Numeric variables that only hold whole numbers (counts, sequence numbers, days,
grades, CNSR, age) have ``integer=True``: the CSV writes them without a decimal part (``65``,
not ``65.0``; a non-integral value there is refused, never rounded) and the sidecar gives
their define.xml data type ``integer``; other numbers are ``float``. XPT stores every
number as an 8-byte double either way.

Names that ADaMIG does not define are cartwatch extensions. Each says so in its
``note``; they are chosen to be unambiguous and ≤8 characters:

ADSL  ``LABELFL`` (label efficacy population), ``PEASFL`` (TRANSCEND primary efficacy
      analysis set), ``DEL17P``/``TP53MUT``/``CKARYO``/``IGHVUNM``/``HIGHRISK``/``BULKY``,
      ``PRIORLN``, ``BTKIFL``/``BCL2IFL``/``BTKIPDFL``/``BCL2FFL``, ``PROLCYFL``
ADRS  ``AVALREAS`` (the clinical engine's reasons for ``AVALC``; ``AVALREA1``… continue it)
ADTTE ``BOR`` (best overall response carried from ADRS, for KM by best response)
ADAE  ``ONSDYINF`` (onset in days after infusion, infusion = day 0, as the trial reports),
      ``TOXGRSTD`` (grading scale), ``ATOXREAS`` (engine reasons; ``ATOXREA1``… continue
      it), ``TOCIFL``/``TOCIN``/
      ``STERFL`` (tocilizumab/corticosteroid use), ``PROLCYFL`` (prolonged cytopenia)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cartwatch.clinical.bor import RESPONDERS, RESPONSE_ORDER

VarType = Literal["Char", "Num"]
Core = Literal["Req", "Cond", "Perm"]

#: SAS XPORT v5 limits (SAS TS-140; FDA Study Data Technical Conformance Guide §3.3.1).
XPT_V5_NAME_MAX = 8
XPT_V5_LABEL_MAX = 40
XPT_V5_CHAR_MAX = 200
_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")

DATE_FORMAT = "DATE9."
#: Text written for the missing value of a character variable. SAS has no character missing;
#: a blank is the convention (the pilot TDF ADAE.TRTEMFL is "" for non-TE records).
CHAR_MISSING = ""


@dataclass(frozen=True)
class VariableSpec:
    """One ADaM variable: name, label, SAS type, length and display format.

    ``length`` is the maximum byte length for ``Char`` variables (values are checked against
    it; pyreadstat stores the observed maximum, see ``xpt.write_xpt``) and 8 for ``Num``.
    ``core`` is the ADaMIG core attribute ("Req", "Cond", "Perm"); cartwatch extensions are
    "Perm". ``note`` records the derivation or the controlled terms in one line.
    ``integer``: a numeric variable holding whole numbers only. ``continued``: a character
    variable whose values may exceed 200 bytes, written with continuation variables (module
    docstring, "Long text").
    """

    name: str
    label: str
    type: VarType
    length: int = 8
    format: str | None = None
    core: Core = "Perm"
    note: str = ""
    integer: bool = False
    continued: bool = False

    @property
    def is_date(self) -> bool:
        """True for SAS date variables (numeric with a DATE format)."""
        return self.type == "Num" and (self.format or "").upper().startswith("DATE")

    @property
    def datatype(self) -> str:
        """define.xml DataType: text, integer, float or date."""
        if self.type == "Char":
            return "text"
        if self.is_date:
            return "date"
        return "integer" if self.integer else "float"


def continuation_name(name: str, index: int) -> str:
    """The *index*-th continuation of *name*: ATOXREAS → ATOXREA1 … ATOXREA9, ATOXRE10."""
    digits = str(index)
    return name[: XPT_V5_NAME_MAX - len(digits)] + digits


def continuation_label(label: str, index: int) -> str:
    """*label* with the index appended, shortened to the 40-character XPT v5 limit."""
    suffix = f" {index}"
    return label[: XPT_V5_LABEL_MAX - len(suffix)] + suffix


def continuation(spec: VariableSpec, index: int) -> VariableSpec:
    """The *index*-th continuation variable of a ``continued`` character variable."""
    return VariableSpec(
        continuation_name(spec.name, index),
        continuation_label(spec.label, index),
        "Char",
        XPT_V5_CHAR_MAX,
        core="Perm",
        note=f"continuation {index} of {spec.name} (text over {XPT_V5_CHAR_MAX} characters)",
    )


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: name, label, ADaM class, key variables and ordered variable specs."""

    name: str
    label: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableSpec, ...]
    #: Variables a dataset made by another tool must have for cartwatch to use it
    #: (``read_adam_dir`` names any that are missing).
    required_on_read: tuple[str, ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def labels(self) -> dict[str, str]:
        """``{name: label}`` in dataset order."""
        return {v.name: v.label for v in self.variables}

    def variable(self, name: str) -> VariableSpec:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"{self.name} has no variable {name}")

    def date_variables(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if v.is_date)

    def char_variables(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if v.type == "Char")


def _c(name: str, label: str, length: int, core: Core = "Perm", note: str = "") -> VariableSpec:
    return VariableSpec(name, label, "Char", length, None, core, note)


def _n(name: str, label: str, core: Core = "Perm", note: str = "") -> VariableSpec:
    return VariableSpec(name, label, "Num", 8, None, core, note)


def _i(name: str, label: str, core: Core = "Perm", note: str = "") -> VariableSpec:
    """A numeric variable holding whole numbers only (written as integers in CSV)."""
    return VariableSpec(name, label, "Num", 8, None, core, note, integer=True)


def _long(name: str, label: str) -> VariableSpec:
    """An extension character variable that may exceed 200 bytes (continued on disk)."""
    note = f"extension; continued in {continuation_name(name, 1)}, {continuation_name(name, 2)}…"
    return VariableSpec(name, label, "Char", XPT_V5_CHAR_MAX, None, "Perm", note, continued=True)


def _d(name: str, label: str, core: Core = "Perm", note: str = "") -> VariableSpec:
    return VariableSpec(name, label, "Num", 8, DATE_FORMAT, core, note)


# Identifier block shared by every dataset (ADaMIG §3.1.1 / §3.2.1).
_IDS: tuple[VariableSpec, ...] = (
    _c("STUDYID", "Study Identifier", 40, "Req"),
    _c("USUBJID", "Unique Subject Identifier", 200, "Req", "STUDYID-SITEID-SUBJID"),
    _c("SUBJID", "Subject Identifier for the Study", 40, "Req", "centre patient_id"),
    _c("SITEID", "Study Site Identifier", 40, "Req", "centre_id"),
)

YN_NOTE = "Y/N"
YNU_NOTE = "Y/N; blank = unknown"

ADSL = DatasetSpec(
    name="ADSL",
    label="Subject-Level Analysis Dataset",
    structure="ADSL",
    keys=("STUDYID", "USUBJID"),
    required_on_read=("STUDYID", "USUBJID"),
    variables=(
        *_IDS,
        _i("AGE", "Age", "Req"),
        _c("AGEU", "Age Units", 5, "Req", "YEARS"),
        _c("SEX", "Sex", 1, "Req", "F/M/U"),
        _c("RACE", "Race", 40, "Req", "not collected in the centre format: NOT REPORTED"),
        _c("DIAGNOS", "Diagnosis (CLL or SLL)", 3, "Perm", "extension"),
        _d("DIAGDT", "Date of Initial Diagnosis"),
        _i("ECOGBL", "Baseline ECOG Performance Status"),
        _c("ARM", "Description of Planned Arm", 40, "Req", "product"),
        _c("TRT01P", "Planned Treatment for Period 01", 40, "Req", "product"),
        _c("TRT01A", "Actual Treatment for Period 01", 40, "Cond", "product if infused"),
        _d("APHDT", "Leukapheresis Date", note="extension"),
        _d("LDSTDT", "Lymphodepletion Start Date", note="extension"),
        _c("LDREG", "Lymphodepletion Regimen", 100, note="extension"),
        _d("TRTSDT", "Date of First Exposure to Treatment", "Cond", "CAR-T infusion date"),
        _d("TRTEDT", "Date of Last Exposure to Treatment", "Cond", "single infusion"),
        _n("DOSE01A", "Actual Dose for Period 01", note="x10^6 CAR+ viable T cells"),
        _c("DOSE01U", "Units for DOSE01A", 30),
        _c("ENRLFL", "Enrolled Population Flag", 1, "Cond", "Y when leukapheresed"),
        _c("SAFFL", "Safety Population Flag", 1, "Cond", "Y when infused"),
        _c("EFFFL", "Efficacy Evaluable Population Flag", 1, "Cond", "see derive docstring"),
        _c("PEASFL", "Primary Efficacy Analysis Set Flag", 1, note="extension; TRANSCEND"),
        _c("LABELFL", "Label Efficacy Population Flag", 1, note="extension; US label"),
        _c("DEL17P", "Deletion 17p", 1, note=YNU_NOTE),
        _c("TP53MUT", "TP53 Mutated", 1, note=YNU_NOTE),
        _c("CKARYO", "Complex Karyotype", 1, note=YNU_NOTE),
        _c("IGHVUNM", "IGHV Unmutated", 1, note=YNU_NOTE),
        _c("HIGHRISK", "High-Risk Feature Present", 1, note="any of the four = Y"),
        _c("BULKY", "Bulky Disease", 1, note=YNU_NOTE),
        _i("PRIORLN", "Number of Prior Lines of Therapy"),
        _c("BTKIFL", "Prior BTK Inhibitor Flag", 1, note=YN_NOTE),
        _c("BCL2IFL", "Prior BCL-2 Inhibitor Flag", 1, note=YN_NOTE),
        _c("BTKIPDFL", "Progression on Prior BTKi Flag", 1, note=YN_NOTE),
        _c("BCL2FFL", "Prior Venetoclax Failure Flag", 1, note=YN_NOTE),
        _c("PROLCYFL", "Prolonged Cytopenia Flag", 1, note="see derive docstring"),
        _d("NACTDT", "Date of New Anti-Cancer Therapy"),
        _c("DTHFL", "Subject Death Flag", 1, "Cond", "Y or blank"),
        _d("DTHDT", "Date of Death", "Cond"),
        _c("DTHCAUS", "Cause of Death", 100, "Perm"),
        _d("LSTALVDT", "Date Last Known Alive", "Cond"),
        _d("DCUTDT", "Data Cutoff Date", note="latest record date when not given"),
    ),
)

#: Response codes for ADRS.AVAL (lower is better), following admiral's ``aval_resp`` order
#: (CR, PR, SD, PD, NE) with iwCLL's CRi after CR and PR-L after PR, in the order of
#: ``clinical.bor.RESPONSE_ORDER``. A study-specific ordinal, as admiralonco's IMWG vignette
#: defines its own for sCR/VGPR/MR: AVALC carries the criterion's own term.
RESPONSE_AVAL: Mapping[str, float] = {
    "CR": 1.0,
    "CRi": 2.0,
    "PR": 3.0,
    "PR-L": 4.0,
    "SD": 5.0,
    "PD": 6.0,
    "NE": 7.0,
}
#: BOR values the overall response rate counts: CR + CRi + PR (iwCLL 2018 Table 4 [S41]) and
#: PR-L, partial response with lymphocytosis during BTK/PI3K inhibitor therapy (contract v2
#: item 4: "counts as a response in ORR"; ``clinical.bor.RESPONDERS``).
RESPONDER_AVALC: tuple[str, ...] = tuple(str(r) for r in RESPONSE_ORDER if r in RESPONDERS)
MRD_AVALC = ("uMRD4", "uMRD5", "uMRD6", "detectable", "not_assessed")

ADRS = DatasetSpec(
    name="ADRS",
    label="Response Analysis Dataset",
    structure="BDS",
    keys=("STUDYID", "USUBJID", "PARAMCD", "ADT", "ASEQ"),
    required_on_read=("USUBJID", "PARAMCD", "AVALC"),
    variables=(
        *_IDS,
        _i("ASEQ", "Analysis Sequence Number"),
        _d("TRTSDT", "Date of First Exposure to Treatment"),
        _c("PARAMCD", "Parameter Code", 8, "Req", "OVRLRESP, BOR, MRDPB, MRDBM, UMRD4PB, UMRD4BM"),
        _c("PARAM", "Parameter", 100, "Req"),
        _c("PARCAT1", "Parameter Category 1", 40, note="response standard, e.g. iwCLL 2018"),
        _c(
            "AVALC",
            "Analysis Value (C)",
            20,
            "Cond",
            "CR/CRi/PR/PR-L/SD/PD/NE (ORR counts CR, CRi, PR and PR-L: RESPONDER_AVALC); "
            "MRD status; Y/N",
        ),
        _n("AVAL", "Analysis Value", "Cond", "response code (RESPONSE_AVAL); MRD level"),
        _d("ADT", "Analysis Date", "Cond"),
        _i("ADY", "Analysis Relative Day", "Cond", "infusion = day 1"),
        _c("ANL01FL", "Analysis Flag 01", 1, "Cond", "Y = used for BOR / summary"),
        _long("AVALREAS", "Reasons for Analysis Value (Engine)"),
        _c("SAFFL", "Safety Population Flag", 1),
        _c("EFFFL", "Efficacy Evaluable Population Flag", 1),
        _c("LABELFL", "Label Efficacy Population Flag", 1),
    ),
)

ADTTE = DatasetSpec(
    name="ADTTE",
    label="Time-to-Event Analysis Dataset",
    structure="BDS-TTE",
    keys=("STUDYID", "USUBJID", "PARAMCD"),
    required_on_read=("USUBJID", "PARAMCD", "AVAL", "CNSR"),
    variables=(
        *_IDS,
        _c("PARAMCD", "Parameter Code", 8, "Req", "PFS, OS, DOR, TTCRS, TTNT"),
        _c("PARAM", "Parameter", 100, "Req"),
        _i("AVAL", "Analysis Value", "Req", "ADT - STARTDT + 1, days"),
        _c("AVALU", "Analysis Value Unit", 10, note="DAYS"),
        _d("STARTDT", "Time to Event Origin Date for Subject", "Req"),
        _d("ADT", "Analysis Date", "Req", "event or censoring date"),
        _i("CNSR", "Censor", "Req", "0 = event, 1 = censored"),
        _c("EVNTDESC", "Event or Censoring Description", 100, "Perm"),
        _c("CNSDTDSC", "Censor Date Description", 100, "Perm"),
        _c("SRCDOM", "Source Data", 8, "Perm"),
        _c("SRCVAR", "Source Variable", 8, "Perm"),
        _c("BOR", "Best Overall Response (iwCLL 2018)", 4, note="extension; from ADRS; PR-L"),
        _c("SAFFL", "Safety Population Flag", 1),
        _c("EFFFL", "Efficacy Evaluable Population Flag", 1),
        _c("LABELFL", "Label Efficacy Population Flag", 1),
    ),
)

ADAE = DatasetSpec(
    name="ADAE",
    label="Adverse Events Analysis Dataset",
    structure="OCCDS",
    keys=("STUDYID", "USUBJID", "AEDECOD", "ASTDT", "AESEQ"),
    required_on_read=("USUBJID", "AEDECOD"),
    variables=(
        *_IDS,
        _i("AESEQ", "Sequence Number"),
        _d("TRTSDT", "Date of First Exposure to Treatment"),
        _c("AECAT", "Category for Adverse Event", 40, note="CRS, NEUROTOXICITY, CYTOPENIA"),
        _c("AETERM", "Reported Term for the Adverse Event", 100, "Req"),
        _c("AEDECOD", "Dictionary-Derived Term", 100, "Req", "MedDRA preferred term"),
        _c("AEBODSYS", "Body System or Organ Class", 100, "Req", "MedDRA SOC"),
        _c("AESER", "Serious Event", 1, "Req", "not collected: blank"),
        _d("ASTDT", "Analysis Start Date", "Cond", "episode onset"),
        _i("ASTDY", "Analysis Start Relative Day", "Cond", "infusion = day 1"),
        _i("ONSDYINF", "Onset Day After Infusion (Infusion=0)", note="extension"),
        _d("AENDT", "Analysis End Date", "Cond", "resolution date"),
        _i("AENDY", "Analysis End Relative Day", "Cond", "infusion = day 1"),
        _n("ADURN", "Analysis Duration (N)", note="resolution - onset, days"),
        _c("ADURU", "Analysis Duration Units", 10),
        _c(
            "AETOXGR",
            "Standard Toxicity Grade",
            1,
            note="maximum grade of the episode over its gradable observations "
            "(not-gradable CRS observations are left out, never grade 0)",
        ),
        _i("AETOXGRN", "Standard Toxicity Grade (N)"),
        _c("BTOXGR", "Baseline Toxicity Grade", 1, note="cytopenias: last pre-infusion lab"),
        _c("TOXGRSTD", "Toxicity Grading Standard", 20, note="ASTCT 2019 / CTCAE v5.0"),
        _long("ATOXREAS", "Reasons for Toxicity Grade (Engine)"),
        _c("AEOUT", "Outcome of Adverse Event", 40),
        _c("TOCIFL", "Tocilizumab Given for Event Flag", 1, note=YN_NOTE),
        _i("TOCIN", "Number of Tocilizumab Doses for Event"),
        _c("STERFL", "Corticosteroid Given for Event Flag", 1, note=YN_NOTE),
        _c("PROLCYFL", "Prolonged Cytopenia Flag", 1, note="cytopenias; see derive"),
        _c("TRTEMFL", "Treatment Emergent Analysis Flag", 1, "Cond", "Y or blank"),
        _c("AOCCPIFL", "1st Max Grade Occurrence in PT Flag", 1, note="Y or blank"),
        _c("SAFFL", "Safety Population Flag", 1),
    ),
)

DATASETS: Mapping[str, DatasetSpec] = {d.name: d for d in (ADSL, ADRS, ADTTE, ADAE)}


def _variable_problems(spec: DatasetSpec, v: VariableSpec) -> list[str]:
    where = f"{spec.name}.{v.name}"
    problems: list[str] = []
    if not _NAME_RE.match(v.name):
        problems.append(f"{where}: name is not an upper-case SAS v5 name of ≤8 characters")
    if len(v.label) > XPT_V5_LABEL_MAX or not v.label.isascii():
        problems.append(f"{where}: label must be ASCII and ≤{XPT_V5_LABEL_MAX} characters")
    if v.type == "Char" and not 1 <= v.length <= XPT_V5_CHAR_MAX:
        problems.append(f"{where}: character length must be 1..{XPT_V5_CHAR_MAX}")
    if v.integer and v.type != "Num":
        problems.append(f"{where}: only a numeric variable can be integer")
    if v.continued and v.type != "Char":
        problems.append(f"{where}: only a character variable can be continued")
    if v.continued:
        # The first 99 continuations must not take the name of another variable.
        names = set(spec.names)
        clash = [n for i in range(1, 100) if (n := continuation_name(v.name, i)) in names]
        if clash:
            problems.append(f"{where}: continuation name {clash[0]} is taken")
    return problems


def spec_problems(spec: DatasetSpec) -> list[str]:
    """XPT v5 / ADaM naming problems in *spec* (empty when it is valid)."""
    problems: list[str] = []
    if len(spec.label) > XPT_V5_LABEL_MAX:
        problems.append(f"{spec.name}: dataset label longer than {XPT_V5_LABEL_MAX}")
    seen: set[str] = set()
    for v in spec.variables:
        if v.name in seen:
            problems.append(f"{spec.name}.{v.name}: duplicate variable")
        seen.add(v.name)
        problems.extend(_variable_problems(spec, v))
    for key in spec.keys + spec.required_on_read:
        if key not in seen:
            problems.append(f"{spec.name}: key/required variable {key} not in the spec")
    return problems
