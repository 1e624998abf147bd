"""What a role without the 'identifiable' permission (the researcher) sees of a row.

One rule, used by every researcher path: the API and the pages (``Actor.present``), the
centre-format and ADaM exports, the dashboard and the report (``services.exports``):

* **free text is blanked** — a hospital number, a lymphodepletion regimen, a product lot, the
  name of an 'other' agent, an MRD method, a follow-up note: typed by hand, they can name a
  person, a place or a date, and no coding rule can vouch for them.
* **agent and product names are coded** — a prior-therapy agent the label knows (ibrutinib,
  Venclexta, …) reads as its generic name, any other as ``OTHER_AGENT``; a product as its
  canonical code or ``OTHER_PRODUCT``. The number of lines and the drug classes, which the
  label population and the ADaM flags are derived from, stay exactly as they were.
* **non-consenting patients are left out** — ``Actor.patients()`` (access.py) returns only
  patients with ``consent_research`` for such a role, so no list, page, export or count made
  for a researcher includes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Model

from cartwatch.clinical.labels import classify_agent, normalise_product
from cartwatch.web.patients import models as m

OTHER_AGENT = "other agent"
OTHER_PRODUCT = "other product"

#: Free-text columns per model, blanked (None) for a researcher.
FREE_TEXT: Mapping[type[Model], tuple[str, ...]] = {
    m.Patient: ("hospital_number",),
    m.CellTherapy: ("lymphodepletion_regimen", "lot"),
    m.Treatment: ("agent_other",),
    m.MrdResult: ("method",),
    m.FollowUp: ("detail",),
}


def coded_agent(name: str) -> str:
    agent = classify_agent(name)
    return agent.generic if agent is not None else OTHER_AGENT


def coded_product(name: str) -> str:
    return normalise_product(name) or OTHER_PRODUCT


def _coded_lines(lines: Iterable[Any]) -> list[Any]:
    """Eligibility input ``prior_lines``: each line's agents coded, the line kept."""
    out = []
    for line in lines:
        if isinstance(line, dict) and isinstance(line.get("agents"), list):
            line = {**line, "agents": [coded_agent(str(a)) for a in line["agents"]]}
        out.append(line)
    return out


def _scrub(text: str, names: Iterable[str]) -> str:
    """*text* with each typed agent name, as a whole word, replaced by its coded name."""
    for name in sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", coded_agent(name), text)
    return text


def research_view(
    model: type[Model], data: Mapping[str, Any], result: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(*data*, *result*) of a row of *model* as a researcher may see them.

    *data* is the row's columns (a centre-format row, or an eligibility check's input);
    *result* the stored result (grades, reasons, …). Unknown keys pass unchanged.
    """
    data = dict(data)
    out_result = dict(result or {})
    for name in FREE_TEXT.get(model, ()):
        if name in data:
            data[name] = None
    if model is m.PriorLine and isinstance(data.get("agents"), list):
        data["agents"] = [coded_agent(str(a)) for a in data["agents"]]
    if model is m.CellTherapy and isinstance(data.get("product"), str):
        data["product"] = coded_product(data["product"])
    if model is m.EligibilityCheck:
        typed = [
            str(a)
            for line in data.get("prior_lines") or ()
            if isinstance(line, dict)
            for a in line.get("agents") or ()
        ]
        if "prior_lines" in data:
            data["prior_lines"] = _coded_lines(data["prior_lines"] or ())
        if isinstance(data.get("product"), str):
            data["product"] = coded_product(data["product"])
        # The engine's reasons quote the agents it could not class, as typed.
        if "reasons" in out_result:
            out_result["reasons"] = [_scrub(str(r), typed) for r in out_result["reasons"] or ()]
        if "unknown_agents" in out_result:
            out_result["unknown_agents"] = [OTHER_AGENT for _ in out_result["unknown_agents"]]
    return data, out_result
