"""Drug classes of prior CLL/SLL therapy, as data with sources (contract v2 item 5).

The liso-cel CLL/SLL indication requires prior "Bruton tyrosine kinase (BTK) inhibitor" and
"B-cell lymphoma 2 (BCL-2) inhibitor" therapy [S21][S20] — classes, not four names. A
reviewer's patient with orelabrutinib + venetoclax was "not eligible" although orelabrutinib
is a BTK inhibitor (issue 10 item 5). The table below lists each agent with its generic name,
brand names and codes, its class (BTK inhibitors covalent and non-covalent), and the source
read for it (an FDA label through openFDA, an EMA product information, a regulator's or the
maker's announcement); what could not be checked is marked UNVERIFIED, as
clinical-standards.md does. An agent missing here can still be counted: the
input may declare its class (``{"name": ..., "class": "BTK inhibitor"}``), and the reasons
say the class was declared, not looked up.

Sources (read through the project's search tool, 2026-12):

* FDA labels via openFDA, ``https://api.fda.gov/drug/label.json?search=openfda.generic_name:"<name>"``:
  IMBRUVICA (ibrutinib), CALQUENCE (acalabrutinib), BRUKINSA (zanubrutinib), JAYPIRCA
  (pirtobrutinib), VENCLEXTA (venetoclax); WHO ATC via the Danish KIP value set ATCTargetCLL
  (L01EL01 ibrutinib, L01EL02 acalabrutinib, L01XX52 venetoclax).
* EMA product information (Venclyxto, the EU brand of venetoclax; Imbruvica; Brukinsa).
* Orelabrutinib (Hibruka, 宜诺凯): Dhillon S, "Orelabrutinib: First Approval", Drugs 2021
  (China NMPA, 25 December 2020, R/R CLL/SLL and MCL; irreversible BTK inhibitor).
* Tirabrutinib (Velexbru): Dhillon S, "Tirabrutinib: First Approval", Drugs 2020 (Japan,
  March 2020; covalent BTK inhibitor); Ono Pharmaceutical news 2022-02-21.
* Nemtabrutinib (MK-1026, formerly ARQ 531): Merck's non-covalent BTK inhibitor in phase 3
  CLL trials (BELLWAVE-008 NCT05624554, BELLWAVE-011 NCT06136559); no approval, no brand.
* Sonrotoclax (BGB-11417, BEQALZI): BCL-2 inhibitor (NCI Thesaurus C175489); FDA accelerated
  approval for R/R mantle cell lymphoma reported 2026-05-13 (press reports; the FDA label
  itself was not read: the brand is UNVERIFIED).
* Lisaftoclax (APG-2575): BCL-2 inhibitor; China NMPA conditional approval 2025-07-10 for
  R/R CLL/SLL after a BTK inhibitor (Ascentage Pharma announcement); brand name not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "AGENTS",
    "AGENT_ALIASES",
    "Agent",
    "Binding",
    "DrugClass",
    "classify_agent",
]


class DrugClass(StrEnum):
    """The classes an agent can be given as (contract v2 item 5)."""

    BTK_INHIBITOR = "BTK inhibitor"
    BCL2_INHIBITOR = "BCL-2 inhibitor"
    OTHER = "other"


class Binding(StrEnum):
    """How a BTK inhibitor binds: both count as "a BTK inhibitor" for the label."""

    COVALENT = "covalent"
    NON_COVALENT = "non-covalent"


@dataclass(frozen=True)
class Agent:
    """A prior-therapy agent the label's CLL/SLL rule names by class."""

    generic: str
    brands: tuple[str, ...]
    drug_class: DrugClass
    source: str  # what was read for the class (and the brands, unless marked UNVERIFIED)
    codes: tuple[str, ...] = ()  # development codes, matched like names (e.g. "ARQ 531")
    binding: Binding | None = None  # BTK inhibitors only

    @property
    def names(self) -> tuple[str, ...]:
        return (self.generic, *self.brands, *self.codes)


_FDA = "FDA label (openFDA {brand})"

AGENTS: tuple[Agent, ...] = (
    # BTK inhibitors, covalent
    Agent("ibrutinib", ("Imbruvica",), DrugClass.BTK_INHIBITOR,
          _FDA.format(brand="IMBRUVICA") + "; WHO ATC L01EL01", binding=Binding.COVALENT),
    Agent("acalabrutinib", ("Calquence",), DrugClass.BTK_INHIBITOR,
          _FDA.format(brand="CALQUENCE") + "; WHO ATC L01EL02", binding=Binding.COVALENT),
    Agent("zanubrutinib", ("Brukinsa",), DrugClass.BTK_INHIBITOR,
          _FDA.format(brand="BRUKINSA") + "; EMA Brukinsa SmPC", binding=Binding.COVALENT),
    Agent("orelabrutinib", ("Hibruka", "宜诺凯"), DrugClass.BTK_INHIBITOR,
          "Dhillon, Orelabrutinib: First Approval, Drugs 2021 (China NMPA 2020-12-25)",
          binding=Binding.COVALENT),
    Agent("tirabrutinib", ("Velexbru",), DrugClass.BTK_INHIBITOR,
          "Dhillon, Tirabrutinib: First Approval, Drugs 2020 (Japan 2020-03)",
          codes=("ONO-4059", "GS-4059"), binding=Binding.COVALENT),
    # BTK inhibitors, non-covalent (reversible)
    Agent("pirtobrutinib", ("Jaypirca",), DrugClass.BTK_INHIBITOR,
          _FDA.format(brand="JAYPIRCA"), binding=Binding.NON_COVALENT),
    Agent("nemtabrutinib", (), DrugClass.BTK_INHIBITOR,
          "Merck phase 3 CLL trials NCT05624554, NCT06136559 (investigational, no brand)",
          codes=("MK-1026", "ARQ 531", "ARQ-531"), binding=Binding.NON_COVALENT),
    # BCL-2 inhibitors
    Agent("venetoclax", ("Venclexta", "Venclyxto"), DrugClass.BCL2_INHIBITOR,
          _FDA.format(brand="VENCLEXTA") + "; EMA Venclyxto; WHO ATC L01XX52"),
    Agent("sonrotoclax", ("Beqalzi",), DrugClass.BCL2_INHIBITOR,
          "NCI Thesaurus C175489 (Bcl-2 inhibitor); FDA accelerated approval 2026-05-13 for "
          "R/R MCL per press reports, label not read: brand UNVERIFIED", codes=("BGB-11417",)),
    Agent("lisaftoclax", (), DrugClass.BCL2_INHIBITOR,
          "China NMPA conditional approval 2025-07-10, R/R CLL/SLL (Ascentage Pharma); "
          "brand name not found", codes=("APG-2575",)),
)  # fmt: skip

AGENT_ALIASES: Mapping[str, Agent] = MappingProxyType(
    {name.casefold(): agent for agent in AGENTS for name in agent.names}
)


def classify_agent(name: str) -> Agent | None:
    """The known agent for a generic or brand name or code (case-insensitive), or None."""
    return AGENT_ALIASES.get(name.strip().casefold())
