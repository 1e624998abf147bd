"""Post-infusion obligations (cli-contract.md `cartwatch schedule`; clinical-standards.md §3B)."""

from __future__ import annotations

import datetime as dt

import pytest

from cartwatch.clinical.errors import ClinicalInputError
from cartwatch.clinical.schedule import (
    ScheduleRequest,
    post_infusion_schedule,
    schedule_for,
)

D = dt.date


@pytest.mark.parametrize(
    ("infusion", "version", "near", "drive"),
    [
        # REMS era: 4 weeks near centre [S28][S31], 8 weeks no driving [S31][S34]
        (D(2024, 3, 14), "US PI 2024-03 (CLL/SLL approval, REMS)", D(2024, 4, 11), D(2024, 5, 9)),
        (D(2025, 6, 25), "US PI 2024-03 (CLL/SLL approval, REMS)", D(2025, 7, 23), D(2025, 8, 20)),
        # From 2025-06-26: 2 weeks and 2 weeks [S33]
        (D(2025, 6, 26), "US PI 2025-06 (REMS removed)", D(2025, 7, 10), D(2025, 7, 10)),
        (
            D(2026, 3, 1),
            "US PI 2026-02 (AA statement removed, 1.3)",
            D(2026, 3, 15),
            D(2026, 3, 15),
        ),
    ],
)
def test_until_dates_are_infusion_plus_n_weeks(
    infusion: dt.date, version: str, near: dt.date, drive: dt.date
) -> None:
    result = post_infusion_schedule("liso-cel", infusion)
    assert result.label_version == version == result.standard
    assert (result.stay_near_centre_until, result.no_driving_until) == (near, drive)


def test_until_dates_are_inclusive_as_stated_in_the_reasons() -> None:
    result = post_infusion_schedule("liso-cel", D(2025, 7, 1))
    assert "through 2025-07-15" in result.reasons[1]
    assert "through 2025-07-15" in result.reasons[2]


def test_to_dict_contract_keys_and_iso_dates() -> None:
    out = post_infusion_schedule("Breyanzi", D(2025, 6, 26)).to_dict()
    assert out["label_version"] == "US PI 2025-06 (REMS removed)"
    assert out["stay_near_centre_until"] == "2025-07-10"
    assert out["no_driving_until"] == "2025-07-10"
    assert out["standard"] == out["label_version"]
    assert isinstance(out["reasons"], list) and out["reasons"]
    events = out["events"]
    assert isinstance(events, list)
    assert events[0] == {
        "date": "2025-06-26",
        "what": "liso-cel infusion (day 0)",
        "verified": True,
    }


def test_rems_era_events_sorted_with_unverified_monitoring_marked() -> None:
    result = post_infusion_schedule("liso-cel", D(2024, 5, 1))
    dates = [e.date for e in result.events]
    assert dates == sorted(dates)
    assert dates == [D(2024, 5, 1), D(2024, 5, 8), D(2024, 5, 29), D(2024, 6, 26)]
    monitoring = result.events[1]
    assert monitoring.verified is False and "UNVERIFIED" in monitoring.what
    assert any(r.startswith("monitoring (UNVERIFIED for Breyanzi)") for r in result.reasons)
    assert result.rems is True


def test_post_rems_has_no_invented_monitoring_end() -> None:
    result = post_infusion_schedule("liso-cel", D(2025, 6, 26))
    assert len(result.events) == 3
    assert [e.what.split(" ")[0] for e in result.events] == ["liso-cel", "last", "last"]
    assert any("no end date for daily monitoring" in r for r in result.reasons)
    assert result.rems is False


def test_same_day_events_keep_clinical_order() -> None:
    events = post_infusion_schedule("liso-cel", D(2025, 7, 1)).events
    assert "near" in events[1].what and "driving" in events[2].what


def test_before_the_first_label_version_is_an_error_on_infusion_date() -> None:
    with pytest.raises(ClinicalInputError) as exc:
        post_infusion_schedule("liso-cel", D(2024, 3, 13))
    assert exc.value.problems[0][0] == "infusion_date"


def test_unknown_product_is_an_error_on_product() -> None:
    with pytest.raises(ClinicalInputError) as exc:
        post_infusion_schedule("cilta-cel", D(2025, 1, 1))
    assert exc.value.problems[0][0] == "product"


def test_schedule_for_request() -> None:
    req = ScheduleRequest("liso-cel", D(2025, 6, 25))
    assert schedule_for(req) == post_infusion_schedule("liso-cel", D(2025, 6, 25))


def test_the_latest_possible_obligation_end_covers_every_label_version() -> None:
    from cartwatch.clinical.labels import LABEL_VERSIONS
    from cartwatch.clinical.schedule import latest_possible_obligation_end

    infused = dt.date(2024, 6, 1)  # REMS era: no driving for 8 weeks, the longest held
    assert latest_possible_obligation_end(infused) == infused + dt.timedelta(weeks=8)
    for version in LABEL_VERSIONS:
        on = max(version.effective_from, dt.date(2024, 3, 14))
        if version.product != "liso-cel" or (version.effective_to and on > version.effective_to):
            continue
        schedule = post_infusion_schedule("liso-cel", on)
        end = latest_possible_obligation_end(on)
        assert schedule.stay_near_centre_until <= end and schedule.no_driving_until <= end
