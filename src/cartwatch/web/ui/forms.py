"""Form specs for the data-entry pages: labels, widgets and text → JSON conversion.

Presentation only. A form here turns the strings of an HTML POST into the JSON payload the
services take (``records.create_record`` / ``create_patient`` / ``create_eligibility``); all
validation of meaning (ranges, enums, contradictions) and all grading stay in the services,
the row models and the clinical engines. Their ``path: problem`` messages are mapped back to
the field with that path, so the page shows the error next to the input.

Field names are the payload paths (``ice_items.orientation``), so an error path from the
engine finds its input without a translation table. Empty inputs are left out of the payload
and the row model's default applies (never a silently invented clinical value).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.http import QueryDict

from cartwatch.clinical.crs import OxygenDevice, Vasopressor
from cartwatch.clinical.icans import (
    CerebralEdema,
    Consciousness,
    IcansDomain,
    MotorWeakness,
    Seizure,
)
from cartwatch.schemas.csv_numbers import PLAIN_INTEGER, PLAIN_NUMBER

Kind = Literal[
    "text", "number", "integer", "date", "datetime", "bool", "tristate", "choice", "multi",
    "agents", "lines", "hidden", "password",
]  # fmt: skip

Choices = tuple[tuple[str, str], ...]


#: Labels that are not the value with spaces: one spelling across the pages (British, as
#: clinical-standards.md: oedema, haemorrhage), and the words a nurse reads on the form.
CHOICE_WORDS = {
    "cerebral_edema": "cerebral oedema",
    "motor_weakness": "motor weakness",
    "ice": "ICE score",
    "capd": "CAPD score",
    # Abbreviations keep their capitals inside the lower-case option words.
    "crs": "CRS",
    "icans": "ICANS",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "angiotensin_ii": "angiotensin II",
    "raised_icp_signs": "raised ICP signs",
    "cll_or_nodules_present": "CLL or nodules present",
    "hypocellular_no_cll": "hypocellular, no CLL",
    "normocellular_no_cll": "normocellular, no CLL",
}


def choices_of(values: Iterable[str]) -> Choices:
    """Enum values with readable labels (``high_flow_nasal_cannula`` → "high flow nasal …")."""
    return tuple((v, CHOICE_WORDS.get(v, v.replace("_", " "))) for v in values)


@dataclass(frozen=True)
class Field:
    name: str  # payload path, dotted for nested objects
    label: str
    kind: Kind = "text"
    choices: Choices = ()
    required: bool = False
    help: str = ""
    unit: str = ""
    step: str = "any"

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Section:
    legend: str
    fields: tuple[Field, ...]
    # Payload prefix: the daily assessment posts a CRS and an ICANS payload from one form.
    prefix: str = ""
    note: str = ""


@dataclass
class BoundField:
    spec: Field
    name: str  # the HTML name (prefix + path)
    value: Any
    errors: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")

    @property
    def checked_values(self) -> list[str]:
        return [str(v) for v in self.value] if isinstance(self.value, list) else []


@dataclass
class BoundSection:
    section: Section
    fields: list[BoundField]


class ParseError(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))


# --------------------------------------------------------------------------- conversion


def _finite_number(raw: str) -> float:
    text = raw.replace(",", ".")
    # Not float() alone: it reads "3_9" and "٣٩" as 39 (schemas/csv_numbers.py).
    if not PLAIN_NUMBER.fullmatch(text):
        raise ValueError(f"not a number: {raw!r}")
    number = float(text)
    if not math.isfinite(number):  # "1e309", "inf", "nan": float() reads them all
        raise ValueError(f"not a finite number: {raw!r}")
    return number


def unoffered_problem(spec: Field) -> str:
    """What is allowed, by the labels the nurse sees (never by the stored codes)."""
    labels = [label for _, label in spec.choices]
    if spec.kind == "multi":
        return "not one of the choices offered; tick any of: " + ", ".join(labels)
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    return "not one of the choices offered; choose one of: " + listed


def _refuse_unoffered(spec: Field, sent: Iterable[str]) -> None:
    """Only a tampered or stale page sends a value the form does not offer."""
    offered = {value for value, _ in spec.choices}
    if any(value not in offered for value in sent):
        raise ValueError(unoffered_problem(spec))


def _as_sent(spec: Field, post: QueryDict, name: str) -> tuple[bool, Any] | None:
    """(present, value) of the inputs read as sent, or None for the others: checkboxes, and
    passwords (never trimmed: a space is part of a password)."""
    if spec.kind == "bool":
        return True, name in post
    if spec.kind == "multi":
        values = post.getlist(name)
        _refuse_unoffered(spec, values)
        return bool(values), values
    if spec.kind == "password":
        return name in post, post.get(name, "")
    return None


def _convert(spec: Field, post: QueryDict, name: str) -> tuple[bool, Any]:
    """(present, value) of one input; raises ValueError with a user message."""
    as_sent = _as_sent(spec, post, name)
    if as_sent is not None:
        return as_sent
    sent = post.getlist(name)
    if len(sent) > 1:  # QueryDict.get would silently keep the last one
        raise ValueError("sent more than once (a repeated field is ambiguous)")
    raw = post.get(name, "").strip()
    if raw == "":
        return False, None
    if spec.kind == "number":
        return True, _finite_number(raw)
    if spec.kind == "integer":
        if not PLAIN_INTEGER.fullmatch(raw):  # int() too reads "1_0" and "١٠" as 10
            raise ValueError(f"not a whole number: {raw!r}")
        return True, int(raw)
    if spec.kind == "tristate":
        return True, {"yes": True, "no": False}.get(raw)
    if spec.kind == "choice":
        _refuse_unoffered(spec, [raw])
    if spec.kind == "agents":
        return True, [a.strip() for a in raw.replace(",", ";").split(";") if a.strip()]
    if spec.kind == "lines":
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        return True, [
            {"agents": [a.strip() for a in ln.replace(",", ";").split(";") if a.strip()]}
            for ln in lines
        ]
    return True, raw  # text, date, datetime (ISO from the browser), an offered choice


def _put(payload: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = payload
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


#: Form keys that are not clinical data: Django's CSRF token.
NOT_DATA = frozenset({"csrfmiddlewaretoken"})


def parse(sections: Sequence[Section], post: QueryDict) -> dict[str, dict[str, Any]]:
    """Payloads by section prefix ("" for single-payload forms) from a POST."""
    payloads: dict[str, dict[str, Any]] = {}
    known = {section.prefix + spec.name for section in sections for spec in section.fields}
    problems: list[tuple[str, str]] = [
        (name, f"the page sent a field this form does not have ({name!r}): reload the form")
        for name in post
        if name not in known and name not in NOT_DATA
    ]
    for section in sections:
        payload = payloads.setdefault(section.prefix, {})
        for spec in section.fields:
            name = section.prefix + spec.name
            try:
                present, value = _convert(spec, post, name)
            except ValueError as exc:
                problems.append((name, str(exc)))
                continue
            if present:
                _put(payload, spec.name, value)
    if problems:
        raise ParseError(problems)
    return payloads


def _shown(spec: Field, value: Any) -> Any:
    if spec.kind == "tristate":
        return {True: "yes", False: "no"}.get(value, "")
    if spec.kind == "agents" and isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else value


@dataclass(frozen=True)
class TopProblem:
    """One line of the error summary at the top of a form: the field's label linked to its
    input (``anchor``) and the problem in words; no field code is ever shown."""

    label: str
    anchor: str
    message: str


def _label_for(sections: Sequence[Section], path: str) -> tuple[str, str]:
    """(label, anchor) of the input a problem path belongs to, or of the first input under
    it (``ice_items`` → the first ICE item); ("", "") when none matches."""
    for section in sections:
        for spec in section.fields:
            name = section.prefix + spec.name
            if path and (name == path or name.startswith(path + ".")):
                return spec.label, "f-" + name.replace(".", "-").replace("_", "-")
    return "", ""


def bind(
    sections: Sequence[Section],
    post: QueryDict | None = None,
    initial: Mapping[str, Any] | None = None,
    problems: Sequence[tuple[str, str]] = (),
) -> tuple[list[BoundSection], list[TopProblem]]:
    """Sections with values (re-shown after an error) and errors placed on their inputs.

    Returns the bound sections and the summary for the top of the page: every problem, in
    form order, with its field's label linked to the input.
    """
    unplaced = list(problems)
    bound: list[BoundSection] = []
    top: list[TopProblem] = []
    for section in sections:
        fields_: list[BoundField] = []
        for spec in section.fields:
            name = section.prefix + spec.name
            if post is not None:
                if spec.kind == "bool":
                    value: Any = name in post
                elif spec.kind == "multi":
                    value = post.getlist(name)
                elif spec.kind == "password":
                    value = ""  # never sent back to the browser
                else:
                    value = post.get(name, "")
            else:
                value = _shown(spec, (initial or {}).get(name))
            bf = BoundField(spec, name, value)
            for problem in list(unplaced):
                path = problem[0]
                # "vasopressors[0]" belongs to the vasopressors input.
                if path == name or path.startswith(name + "[") or path.startswith(name + "."):
                    bf.errors.append(problem[1])
                    top.append(TopProblem(spec.label, bf.input_id, problem[1]))
                    unplaced.remove(problem)
            fields_.append(bf)
        bound.append(BoundSection(section, fields_))
    rest = [TopProblem(*_label_for(sections, path), message) for path, message in unplaced]
    return bound, rest + top


def now_local_input() -> str:
    """The current local wall-clock time as a datetime-local value (minutes)."""
    from django.utils import timezone

    return timezone.localtime().replace(tzinfo=None).isoformat(timespec="minutes")


def today_input() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


# --------------------------------------------------------------------------- the forms

YES_NO: Kind = "tristate"

PATIENT = (
    Section(
        "Referral",
        (
            Field("patient_id", "Pseudonym (patient id)", required=True,
                  help="Letters, digits, '.', '_', '-'; never a name."),
            Field("hospital_number", "Hospital number",
                  help="Identifying; visible to clinical roles only, never exported."),
            Field("age_years", "Age", "integer", required=True, unit="years"),
            Field("sex", "Sex", "choice", (("F", "female"), ("M", "male"), ("U", "unknown")),
                  required=True),
            Field("diagnosis", "Diagnosis", "choice", (("CLL", "CLL"), ("SLL", "SLL")),
                  required=True),
            Field("diagnosis_date", "Date of diagnosis", "date"),
            Field("ecog", "ECOG performance status", "integer", step="1"),
            Field("consent_research", "Consented to research use of pseudonymised data", "bool"),
        ),
    ),
    Section(
        "High-risk markers (empty = unknown / not tested)",
        (
            Field("del17p", "del(17p)", YES_NO),
            Field("tp53_mutated", "TP53 mutated", YES_NO),
            Field("complex_karyotype", "Complex karyotype", YES_NO),
            Field("ighv_unmutated", "IGHV unmutated", YES_NO),
            Field("bulky_disease", "Bulky disease (any node ≥5 cm)", YES_NO),
        ),
    ),
)  # fmt: skip

PRIOR_LINE = (
    Section(
        "Prior line of therapy",
        (
            Field("line_number", "Line number", "integer", required=True),
            Field("agents", "Agents", "agents", required=True,
                  help="Separated by ';', e.g. ibrutinib; venetoclax"),
            Field("start_date", "Start", "date"),
            Field("end_date", "End", "date"),
            Field("outcome", "Outcome", "choice",
                  choices_of(("progression", "refractory", "intolerance", "completed", "other",
                              "unknown"))),
        ),
    ),
)  # fmt: skip

#: A clinical judgement with no default: the form refuses an empty choice (entry.py).
DERIVE = "derive"
RELAPSED_CHOICES: Choices = (
    (DERIVE, "derive from the recorded prior lines"),
    ("yes", "yes"),
    ("no", "no"),
)

ELIGIBILITY = (
    Section(
        "Label eligibility check",
        (
            Field("product", "Product", required=True),
            Field("diagnosis", "Diagnosis", "choice", (("CLL", "CLL"), ("SLL", "SLL")),
                  required=True),
            Field("age_years", "Age", "number", required=True, unit="years"),
            Field("relapsed_or_refractory", "Relapsed or refractory disease", "choice",
                  RELAPSED_CHOICES, required=True,
                  help="No default: derive it from the recorded prior lines' outcomes "
                  "(progression or refractory) or choose yes or no."),
            Field("prior_lines", "Prior lines", "lines", required=True,
                  help="One line of therapy per row; agents of a line separated by ';'."),
            Field("as_of", "Decision date (label version in force on this day)", "date",
                  required=True),
        ),
        note="The label version in force on the decision date is applied and stored with the "
        "decision and its reasons.",
    ),
)  # fmt: skip

CELL_THERAPY = (
    Section(
        "CAR-T course",
        (
            Field("product", "Product", required=True),
            Field("apheresis_date", "Apheresis", "date", required=True),
            Field("lymphodepletion_start", "Lymphodepletion start", "date"),
            Field("lymphodepletion_regimen", "Lymphodepletion regimen",
                  help="e.g. fludarabine 30 mg/m² + cyclophosphamide 300 mg/m² × 3 days"),
            Field("infusion_date", "Infusion", "date", help="Empty = not (yet) infused."),
            Field("lot", "Lot"),
            Field("dose_10e6_car_t_cells", "Dose", "number",
                  unit="× 10⁶ CAR+ viable T cells"),
        ),
    ),
)  # fmt: skip

CRS_FIELDS = (
    Field("temperature_c", "Highest temperature", "number", unit="°C", step="0.1"),
    Field("fever_attributable_to_other_cause", "Fever explained by another cause (e.g. infection)",
          "bool"),
    Field("antipyretic_or_anticytokine_given", "Antipyretic, tocilizumab or steroid given",
          "bool", help="Premedication too: before the first fever ≥38.0 °C (or the box below) "
          "it is premedication, and fever is still required for CRS."),
    Field("fever_before_therapy",
          "Fever ≥38.0 °C before this therapy, documented outside this record (e.g. at home)",
          "bool", help="With the box above: the therapy treats CRS, not premedication."),
    Field("hypotension", "Hypotension", "bool"),
    Field("vasopressors", "Vasopressors running", "multi",
          choices_of(v.value for v in Vasopressor)),
    Field("oxygen_device", "Oxygen device", "choice", choices_of(d.value for d in OxygenDevice)),
    Field("oxygen_flow_l_min", "Oxygen flow", "number", unit="L/min", step="0.5"),
    Field("hypotension_attributable_to_other_cause", "Hypotension explained by another cause",
          "bool"),
    Field("hypoxia_attributable_to_other_cause", "Hypoxia explained by another cause", "bool"),
    Field("death_due_to_crs", "Death due to CRS", "bool"),
)  # fmt: skip

ICANS_FIELDS = (
    Field("age_years", "Age", "number", required=True, unit="years",
          help="Under 12: CAPD instead of ICE."),
    Field("developmental_delay", "Developmental delay", "bool"),
    Field("ice_score", "ICE score (total)", "integer", unit="/ 10",
          help="Either the total or the five items below, not both."),
    Field("ice_items.orientation", "ICE orientation", "integer", unit="/ 4"),
    Field("ice_items.naming", "ICE naming", "integer", unit="/ 3"),
    Field("ice_items.commands", "ICE follows commands", "integer", unit="/ 1"),
    Field("ice_items.writing", "ICE writing", "integer", unit="/ 1"),
    Field("ice_items.attention", "ICE attention", "integer", unit="/ 1"),
    Field("capd_score", "CAPD score", "integer", unit="/ 32"),
    Field("capd_unable", "Unable to perform CAPD", "bool"),
    Field("consciousness", "Level of consciousness", "choice",
          choices_of(c.value for c in Consciousness)),
    Field("seizure", "Seizure", "choice", choices_of(s.value for s in Seizure)),
    Field("motor_weakness", "Motor findings", "choice",
          choices_of(s.value for s in MotorWeakness)),
    Field("cerebral_edema", "Cerebral oedema on imaging", "choice",
          choices_of(s.value for s in CerebralEdema)),
    Field("raised_icp_signs", "Signs of raised intracranial pressure", "bool"),
    Field("attributable_to_other_cause", "Findings explained by another cause", "multi",
          choices_of(d.value for d in IcansDomain)),
    Field("tremor", "Tremor", "bool"),
    Field("myoclonus", "Myoclonus", "bool"),
    Field("headache", "Headache", "bool"),
    Field("intracranial_hemorrhage", "Intracranial haemorrhage", "bool"),
    Field("death_due_to_icans", "Death due to ICANS", "bool"),
)  # fmt: skip

#: The daily post-infusion assessment: one time, a CRS payload and an ICANS payload.
ASSESSMENT = (
    Section("When", (Field("observed_at", "Observed at (local time)", "datetime", required=True),)),
    Section("CRS: vital signs, oxygen, vasopressors", CRS_FIELDS, prefix="crs."),
    Section(
        "ICANS: ICE or CAPD, consciousness, seizures, motor, imaging",
        (Field("assessed", "Neurological assessment done", "bool"), *ICANS_FIELDS),
        prefix="icans.",
        note="Untick if no neurological assessment was made at this time: only CRS is saved.",
    ),
)  # fmt: skip

TREATMENT = (
    Section(
        "Dose given",
        (
            Field("given_at", "Given at (local time)", "datetime", required=True),
            Field("agent", "Agent", "choice",
                  choices_of(("tocilizumab", "dexamethasone", "methylprednisolone", "anakinra",
                              "siltuximab", "levetiracetam", "other")), required=True),
            Field("agent_other", "Other agent (name)"),
            Field("indication", "Indication", "choice", choices_of(("crs", "icans", "other")),
                  required=True),
            Field("dose", "Dose", "number"),
            Field("dose_unit", "Dose unit", "choice", choices_of(("mg", "mg/kg", "g", "mg/m2"))),
        ),
    ),
)  # fmt: skip

LAB = (
    Section(
        "Blood count",
        (
            Field("observed_at", "Drawn at (local time)", "datetime", required=True),
            Field("neutrophils_10e9_l", "Neutrophils", "number", unit="× 10⁹/L"),
            Field("platelets_10e9_l", "Platelets", "number", unit="× 10⁹/L"),
            Field("hemoglobin_g_dl", "Haemoglobin", "number", unit="g/dL"),
            Field("lymphocytes_10e9_l", "Lymphocytes", "number", unit="× 10⁹/L"),
            Field("transfusion_indicated", "Transfusion indicated", "bool"),
        ),
    ),
    Section(
        "Lower limits of normal (optional, for CTCAE grade 1)",
        (
            Field("lln.neutrophils_10e9_l", "LLN neutrophils", "number", unit="× 10⁹/L"),
            Field("lln.platelets_10e9_l", "LLN platelets", "number", unit="× 10⁹/L"),
            Field("lln.hemoglobin_g_dl", "LLN haemoglobin", "number", unit="g/dL"),
        ),
    ),
)  # fmt: skip

RESPONSE = (
    Section(
        "iwCLL 2018 assessment",
        (
            Field("assessed_at", "Assessed on", "date", required=True),
            Field("timepoint", "Timepoint", "choice",
                  (("baseline", "baseline (before infusion)"), ("post", "post-infusion")),
                  required=True),
        ),
    ),
    Section(
        "Nodes, spleen, liver",
        (
            Field("lymph_nodes_spd_cm2", "Lymph nodes SPD", "number", unit="cm²"),
            Field("largest_node_cm", "Largest node", "number", unit="cm"),
            Field("new_lesion", "New lesion", "bool"),
            Field("spleen_cm", "Spleen (craniocaudal)", "number", unit="cm"),
            Field("liver_enlarged", "Liver enlarged", YES_NO),
        ),
    ),
    Section(
        "Blood and marrow",
        (
            Field("lymphocytes_10e9_l", "Lymphocytes", "number", unit="× 10⁹/L"),
            Field("b_lymphocytes_10e9_l", "B lymphocytes (flow)", "number", unit="× 10⁹/L",
                  help="CLL/B-cell count, at most the total lymphocytes; PD by lymphocytosis is "
                  "counted in it"),
            Field("neutrophils_10e9_l", "Neutrophils", "number", unit="× 10⁹/L"),
            Field("platelets_10e9_l", "Platelets", "number", unit="× 10⁹/L"),
            Field("hemoglobin_g_dl", "Haemoglobin", "number", unit="g/dL"),
            Field("transfused_or_epo", "Transfused or on erythropoietin", YES_NO),
            Field("constitutional_symptoms", "Constitutional symptoms", YES_NO),
            Field("marrow", "Marrow", "choice",
                  choices_of(("not_done", "normocellular_no_cll", "hypocellular_no_cll",
                              "cll_or_nodules_present"))),
            Field("cytopenia_due_to_cll", "Cytopenia due to CLL", "bool"),
            Field("cytopenia_due_to_treatment", "Cytopenia due to treatment", "bool"),
            Field("richter_transformation", "Richter transformation", "bool"),
            Field("bcr_inhibitor_ongoing", "On a BTK or PI3K inhibitor", "bool",
                  help="A lymphocytosis alone is then PR-L or SD, not PD"),
        ),
    ),
)  # fmt: skip

MRD = (
    Section(
        "MRD sample",
        (
            Field("sampled_at", "Sampled on", "date", required=True),
            Field("sample", "Sample", "choice", choices_of(("blood", "marrow")), required=True),
            Field("result", "Result", "choice", choices_of(("undetectable", "detectable")),
                  required=True),
            Field("level", "Level (fraction)", "number", help="e.g. 0.00005"),
            Field("sensitivity", "Assay sensitivity (fraction)", "number", required=True,
                  help="e.g. 0.0001 for 10⁻⁴"),
            Field("method", "Method", required=True, help="e.g. NGS (clonoSEQ), flow"),
        ),
    ),
)  # fmt: skip

FOLLOWUP = (
    Section(
        "Follow-up event",
        (
            Field("event_date", "Date", "date", required=True),
            Field("event", "Event", "choice",
                  choices_of(("progression", "new_therapy", "death", "last_contact")),
                  required=True),
            Field("death_cause", "Cause of death", "choice",
                  choices_of(("disease_progression", "crs", "neurotoxicity", "infection",
                              "second_primary_malignancy", "other", "unknown"))),
            Field("detail", "Detail", help="Free text; hidden from researchers."),
        ),
    ),
)  # fmt: skip


def default_datetime_fields(sections: Sequence[Section]) -> dict[str, Any]:
    """Initial values: now for date-times, today for required dates (a convenience only)."""
    out: dict[str, Any] = {}
    for section in sections:
        for spec in section.fields:
            if spec.kind == "datetime":
                out[section.prefix + spec.name] = now_local_input()
            elif spec.kind == "date" and spec.required:
                out[section.prefix + spec.name] = today_input()
    return out


__all__ = [
    "ASSESSMENT",
    "CELL_THERAPY",
    "ELIGIBILITY",
    "FOLLOWUP",
    "LAB",
    "MRD",
    "PATIENT",
    "PRIOR_LINE",
    "RESPONSE",
    "TREATMENT",
    "BoundSection",
    "Field",
    "ParseError",
    "Section",
    "bind",
    "parse",
]
