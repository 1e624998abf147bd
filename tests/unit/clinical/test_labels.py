"""Liso-cel US label versions as data (clinical-standards.md §0 item 4, §3B)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.labels import (
    AGENTS,
    LABEL_VERSIONS,
    Diagnosis,
    DrugClass,
    classify_agent,
    label_in_force,
    normalise_product,
)

D = dt.date


def test_versions_are_contiguous_and_ordered() -> None:
    for earlier, later in itertools.pairwise(LABEL_VERSIONS):
        assert earlier.effective_to is not None
        assert earlier.effective_to + dt.timedelta(days=1) == later.effective_from
    assert LABEL_VERSIONS[-1].effective_to is None


def test_version_ids_are_unique() -> None:
    ids = [v.version for v in LABEL_VERSIONS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("on", "version"),
    [
        # §3B approval row [S20]-[S25]
        (D(2024, 3, 14), "US PI 2024-03 (CLL/SLL approval, REMS)"),
        (D(2025, 6, 25), "US PI 2024-03 (CLL/SLL approval, REMS)"),
        # §3B "REMS now" row [S29][S32]; cli-contract "from 2025-06-26 on"
        (D(2025, 6, 26), "US PI 2025-06 (REMS removed)"),
        (D(2025, 11, 30), "US PI 2025-06 (REMS removed)"),
        # §3B "Later label changes" row [S29]
        (D(2025, 12, 1), "US PI 2025-12 (MZL added)"),
        (D(2026, 1, 31), "US PI 2025-12 (MZL added)"),
        (D(2026, 2, 1), "US PI 2026-02 (AA statement removed, 1.3)"),
        (D(2030, 1, 1), "US PI 2026-02 (AA statement removed, 1.3)"),
    ],
)
def test_label_in_force_by_date(on: dt.date, version: str) -> None:
    assert label_in_force("liso-cel", on).version == version


def test_before_first_version_is_an_error_naming_the_date_field() -> None:
    with pytest.raises(ClinicalInputError) as exc:
        label_in_force("liso-cel", D(2024, 3, 13), date_field="as_of")
    path, message = exc.value.problems[0]
    assert path == "as_of"
    assert "2024-03-13 is before 2024-03-14" in message


@pytest.mark.parametrize("alias", ["liso-cel", "LISO-CEL", "Lisocabtagene Maraleucel", "breyanzi"])
def test_product_aliases_are_case_insensitive(alias: str) -> None:
    assert normalise_product(alias) == "liso-cel"
    assert label_in_force(alias, D(2024, 6, 1)).product == "liso-cel"


def test_unknown_product_is_an_error_on_product() -> None:
    assert normalise_product("axi-cel") is None
    with pytest.raises(ClinicalInputError) as exc:
        label_in_force("axi-cel", D(2024, 6, 1))
    assert exc.value.problems[0][0] == "product"


def test_rems_era_obligations() -> None:
    # §3B proximity 4 weeks [S28][S31], driving 8 weeks [S31][S34], REMS [S20]
    ob = label_in_force("liso-cel", D(2024, 3, 14)).obligations
    assert (ob.stay_near_centre_weeks.value, ob.no_driving_weeks.value, ob.rems.value) == (
        4,
        8,
        True,
    )
    assert ob.stay_near_centre_weeks.verified and ob.no_driving_weeks.verified
    # "daily for 7 days" is the Yescarta wording [S61], UNVERIFIED for Breyanzi
    assert ob.daily_monitoring_days.value == 7
    assert ob.daily_monitoring_days.verified is False
    assert ob.monitoring_text.verified is False


def test_post_rems_obligations() -> None:
    # §3B post-June-2025 rows: 2 and 2 weeks [S33]; REMS removed [S29]
    ob = label_in_force("liso-cel", D(2025, 6, 26)).obligations
    assert (ob.stay_near_centre_weeks.value, ob.no_driving_weeks.value, ob.rems.value) == (
        2,
        2,
        False,
    )
    assert ob.daily_monitoring_days.value is None
    assert ob.monitoring_text.verified is False


def test_cll_sll_indication_rules_are_verified() -> None:
    # §3B "Indication" row [S21][S20]
    ind = label_in_force("liso-cel", D(2024, 3, 14)).indication_for(Diagnosis.SLL)
    assert ind is not None and ind.verified and ind.rules is not None
    assert ind.effective_from == D(2024, 3, 14)
    assert ind.rules.min_prior_lines == 2
    assert set(ind.rules.required_classes) == {DrugClass.BTK_INHIBITOR, DrugClass.BCL2_INHIBITOR}
    assert ind.rules.adults_only and ind.rules.requires_relapsed_or_refractory
    assert ind.sources


@pytest.mark.parametrize("diagnosis", [Diagnosis.LBCL, Diagnosis.FL, Diagnosis.MCL])
def test_indications_not_in_the_reference_are_unverified_without_rules(
    diagnosis: Diagnosis,
) -> None:
    for version in LABEL_VERSIONS:
        ind = version.indication_for(diagnosis)
        assert ind is not None
        assert ind.verified is False and ind.rules is None and ind.note


def test_mzl_appears_only_from_december_2025() -> None:
    # [S29] "MZL indication added (1.5) 12/2025"
    assert label_in_force("liso-cel", D(2025, 11, 30)).indication_for(Diagnosis.MZL) is None
    mzl = label_in_force("liso-cel", D(2025, 12, 1)).indication_for(Diagnosis.MZL)
    assert mzl is not None and mzl.verified is False and mzl.rules is None


def test_aa_statement_change_records_unknown_indication_as_unverified() -> None:
    latest = label_in_force("liso-cel", D(2026, 2, 1))
    assert any(not c.verified and "1.3" in c.value for c in latest.changes)
    assert latest.verified is False


def test_every_version_cites_sources() -> None:
    for version in LABEL_VERSIONS:
        assert version.sources
        assert all(s.startswith("[S") for s in version.sources)


@pytest.mark.parametrize(
    ("name", "generic", "drug_class"),
    [
        ("ibrutinib", "ibrutinib", DrugClass.BTK_INHIBITOR),
        ("Imbruvica", "ibrutinib", DrugClass.BTK_INHIBITOR),
        ("ACALABRUTINIB", "acalabrutinib", DrugClass.BTK_INHIBITOR),
        ("calquence", "acalabrutinib", DrugClass.BTK_INHIBITOR),
        ("Brukinsa", "zanubrutinib", DrugClass.BTK_INHIBITOR),
        ("zanubrutinib", "zanubrutinib", DrugClass.BTK_INHIBITOR),
        ("Jaypirca", "pirtobrutinib", DrugClass.BTK_INHIBITOR),
        (" pirtobrutinib ", "pirtobrutinib", DrugClass.BTK_INHIBITOR),
        ("Venclexta", "venetoclax", DrugClass.BCL2_INHIBITOR),
        ("VENETOCLAX", "venetoclax", DrugClass.BCL2_INHIBITOR),
    ],
)
def test_classify_agent_generic_and_brand(name: str, generic: str, drug_class: DrugClass) -> None:
    agent = classify_agent(name)
    assert agent is not None
    assert (agent.generic, agent.drug_class) == (generic, drug_class)


@pytest.mark.parametrize("name", ["rituximab", "obinutuzumab", "idelalisib", "ibrutinib-x", ""])
def test_other_agents_are_unclassified(name: str) -> None:
    assert classify_agent(name) is None


def test_agent_table_lists_the_classes_of_contract_v2() -> None:
    """Contract v2 item 5: BTK inhibitors covalent and non-covalent, BCL-2 inhibitors."""
    btki = {a.generic for a in AGENTS if a.drug_class is DrugClass.BTK_INHIBITOR}
    bcl2i = {a.generic for a in AGENTS if a.drug_class is DrugClass.BCL2_INHIBITOR}
    assert {"ibrutinib", "acalabrutinib", "zanubrutinib", "pirtobrutinib", "orelabrutinib",
            "nemtabrutinib"} <= btki  # fmt: skip
    assert {"venetoclax", "sonrotoclax", "lisaftoclax"} <= bcl2i
    assert all(a.source for a in AGENTS)  # every entry says where its class comes from
