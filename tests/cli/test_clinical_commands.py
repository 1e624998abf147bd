"""The contract JSON commands: end to end as real ``cartwatch`` processes, and the many
bad-input variants in process through Typer's CliRunner (same app, same streams; a process
start costs seconds, mostly the statistics imports).

Expected outputs come from the contract's rules worked by hand (cli-contract.md), never
from running the code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cartwatch.cli.app import app

CLI = [sys.executable, "-m", "cartwatch.cli.app"]


def run(args: list[str], stdin: str | None = None, cwd: Path | None = None) -> Any:
    """A real ``cartwatch`` process."""
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def invoke(args: list[str], stdin: str | None = None) -> Any:
    """The same app in process (result has .returncode, .stdout, .stderr like a process)."""
    result = CliRunner().invoke(app, args, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    result.returncode = result.exit_code
    return result


# One valid document per command, with the contract result worked by hand.
ELIGIBLE = {
    # 2 lines incl. a BTK and a BCL-2 inhibitor, adult, R/R CLL, after 2024-03-14: eligible.
    "product": "Breyanzi",
    "diagnosis": "CLL",
    "age_years": 64,
    "relapsed_or_refractory": True,
    "prior_lines": [{"agents": ["ibrutinib"]}, {"agents": ["venetoclax", "obinutuzumab"]}],
    "as_of": "2024-06-01",
}
SCHEDULE = {"product": "liso-cel", "infusion_date": "2025-01-06"}  # REMS era: 4 and 8 weeks
RESPONSE = {  # a new lesion is PD whatever else improved
    "baseline": {"lymph_nodes_spd_cm2": 20.0, "lymphocytes_10e9_l": 40.0},
    "assessment": {"lymph_nodes_spd_cm2": 5.0, "lymphocytes_10e9_l": 2.0, "new_lesion": True},
}
CYTOPENIA = {"neutrophils_10e9_l": 0.8, "platelets_10e9_l": 40.0}  # ANC <1.0 → 3; PLT <50 → 3
# Fever with hypotension on one vasopressor (→3) and a low-flow cannula (→2): worse is 3.
CRS = {
    "temperature_c": 39.2,
    "hypotension": True,
    "vasopressors": ["Noradrenaline"],
    "oxygen_device": "nasal_cannula",
    "oxygen_flow_l_min": 3,
}
# ICE from items 3+3+1+0+1 = 8 (7–9 → 1); awakens to voice → 2: worst domain 2.
ICANS = {
    "age_years": 62,
    "ice_items": {"orientation": 3, "naming": 3, "commands": 1, "writing": 0, "attention": 1},
    "consciousness": "awakens_to_voice",
}

COMMANDS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "grade crs": (["grade", "crs"], CRS),
    "grade icans": (["grade", "icans"], ICANS),
    "eligibility": (["eligibility"], ELIGIBLE),
    "schedule": (["schedule"], SCHEDULE),
    "assess response": (["assess", "response"], RESPONSE),
    "grade cytopenia": (["grade", "cytopenia"], CYTOPENIA),
}

EXPECTED: dict[str, dict[str, Any]] = {
    "grade crs": {"grade": 3, "standard": "ASTCT 2019"},
    "grade icans": {"grade": 2, "standard": "ASTCT 2019", "instrument": "ICE"},
    "eligibility": {"eligible": True, "prior_lines": 2, "prior_btki": True, "prior_bcl2i": True},
    "schedule": {"stay_near_centre_until": "2025-02-03", "no_driving_until": "2025-03-03"},
    "assess response": {"response": "PD"},
    "grade cytopenia": {
        "grades": {"neutrophil_count_decreased": 3, "platelet_count_decreased": 3},
        "standard": "CTCAE v5.0",
    },
}


def _write(tmp_path: Path, document: object, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _assert_bad_input(done: Any, *paths: str) -> list[str]:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    for path in paths:
        assert any(line.startswith(f"{path}: ") for line in lines), (path, lines)
    return lines


@pytest.mark.parametrize("name", COMMANDS)
def test_valid_file_prints_the_contract_result(name: str, tmp_path: Path) -> None:
    args, document = COMMANDS[name]
    done = run([*args, str(_write(tmp_path, document))])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert isinstance(result["standard"], str) and result["standard"]
    assert isinstance(result["reasons"], list) and result["reasons"]
    for key, value in EXPECTED[name].items():
        assert result[key] == value, key


@pytest.mark.parametrize("name", COMMANDS)
def test_dash_reads_stdin_like_a_file(name: str, tmp_path: Path) -> None:
    args, document = COMMANDS[name]
    from_file = run([*args, str(_write(tmp_path, document))])
    from_stdin = run([*args, "-"], stdin=json.dumps(document))
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_format_text_is_a_readable_summary(name: str) -> None:
    args, document = COMMANDS[name]
    done = invoke([*args, "--format", "text", "-"], stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    assert not done.stdout.lstrip().startswith("{")
    assert "Reasons:\n  • " in done.stdout
    result = json.loads(invoke([*args, "-"], stdin=json.dumps(document)).stdout)
    assert f"Standard: {result['standard']}" in done.stdout


def test_text_summary_as_a_process_names_the_decision() -> None:
    args, document = COMMANDS["assess response"]
    done = run([*args, "--format", "text", "-"], stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Response: PD"


# contract v2 item 4, the README worked example: nodes −75 %, platelets up, lymphocytes up.
AFTER_CART = {
    "baseline": {"lymph_nodes_spd_cm2": 40.0, "lymphocytes_10e9_l": 8.0,
                 "b_lymphocytes_10e9_l": 7.0, "platelets_10e9_l": 60.0},
    "assessment": {"lymph_nodes_spd_cm2": 10.0, "lymphocytes_10e9_l": 14.0,
                   "platelets_10e9_l": 120.0},
}  # fmt: skip


@pytest.mark.parametrize(
    ("b_lymphocytes", "bcr_inhibitor_ongoing", "expected"),
    [
        (None, False, "PR"),  # no B count: the total rise is not PD and is set aside
        (None, True, "PR-L"),  # on a BTK/PI3K inhibitor the total rise is the lymphocytosis
        (7.0, False, "SD"),  # a B count that did not fall decides: lymphocytes not improved
        (0.05, False, "PR"),  # B-cell aplasia: the CLL count fell
        (14.0, False, "PD"),  # B lymphocytes +100 %, ≥5
        (14.0, True, "PR-L"),  # the same lymphocytosis on a BTK/PI3K inhibitor
    ],
)
def test_assess_response_b_lymphocytes_and_pr_l(
    b_lymphocytes: float | None, bcr_inhibitor_ongoing: bool, expected: str
) -> None:
    document: dict[str, Any] = json.loads(json.dumps(AFTER_CART))
    if b_lymphocytes is not None:
        document["assessment"]["b_lymphocytes_10e9_l"] = b_lymphocytes
    if bcr_inhibitor_ongoing:
        document["bcr_inhibitor_ongoing"] = True
    done = invoke(["assess", "response", "-"], stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["response"] == expected


def test_cytopenia_series_has_worst_and_episode_timing() -> None:
    series = [
        {
            "neutrophils_10e9_l": 2.0,
            "observed_at": "2024-05-01",
            "lln": {"neutrophils_10e9_l": 1.8},
        },
        {"neutrophils_10e9_l": 0.4, "observed_at": "2024-05-03"},  # <0.5 → 4
        {"neutrophils_10e9_l": 1.2, "observed_at": "2024-05-04T12:00:00"},  # <1.5 → 2
        {
            "neutrophils_10e9_l": 2.5,
            "observed_at": "2024-05-08",
            "lln": {"neutrophils_10e9_l": 1.8},
        },
    ]
    done = run(["grade", "cytopenia", "-"], stdin=json.dumps(series))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["worst"]["neutrophil_count_decreased"] == 4
    assert [o["grades"]["neutrophil_count_decreased"] for o in result["observations"]] == [
        0,
        4,
        2,
        0,
    ]
    assert result["onset"] == "2024-05-03"
    assert result["peak_at"] == "2024-05-03"
    assert result["resolved_at"] == "2024-05-08"
    assert result["duration_days"] == 5


def test_crs_episode_carries_therapy_forward_with_timing() -> None:
    episode = [
        {"temperature_c": 38.6, "observed_at": "2024-05-01T08:00"},  # fever → 1
        {"temperature_c": 39.4, "hypotension": True, "observed_at": "2024-05-01T20:00"},  # → 2
        # tocilizumab given: fever no longer required from here on
        {
            "temperature_c": 37.1,
            "antipyretic_or_anticytokine_given": True,
            "oxygen_device": "high_flow_nasal_cannula",
            "observed_at": "2024-05-02T08:00",
        },  # high-flow → 3
        {"temperature_c": 36.9, "hypotension": True, "observed_at": "2024-05-03T08:00"},
        {"temperature_c": 36.8, "observed_at": "2024-05-04T08:00"},  # therapy carried: → 0
    ]
    done = run(["grade", "crs", "-"], stdin=json.dumps(episode))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # Observation [3] is afebrile but after therapy, so its hypotension still counts (→ 2).
    assert [o["grade"] for o in result["observations"]] == [1, 2, 3, 2, 0]
    assert (result["grade"], result["peak_index"]) == (3, 2)
    assert result["onset"] == "2024-05-01T08:00:00"
    assert result["peak_at"] == "2024-05-02T08:00:00"
    assert result["resolved_at"] == "2024-05-04T08:00:00"
    assert result["duration_days"] == 3


# contract v2 item 1: missing data is never grade 0 (worked by hand from the v2 text).
@pytest.mark.parametrize(
    ("document", "with_fever"),
    [({}, 1), ({"hypotension": True, "vasopressors": ["norepinephrine"]}, 3)],
)
def test_crs_without_a_temperature_is_null_with_exit_0(
    document: dict[str, Any], with_fever: int
) -> None:
    done = invoke(["grade", "crs", "-"], stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["grade"] is None
    assert result["reasons"][-1] == (
        f"not gradable: temperature not recorded; with fever ≥38.0 °C this is grade {with_fever}"
    )


def test_crs_episode_max_over_gradable_and_not_gradable_indices() -> None:
    episode = [
        {"temperature_c": 38.3},  # fever → 1
        {"hypotension": True, "vasopressors": ["norepinephrine"]},  # no temperature → null
        {"temperature_c": 37.0},  # → 0
    ]
    done = invoke(["grade", "crs", "-"], stdin=json.dumps(episode))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [o["grade"] for o in result["observations"]] == [1, None, 0]
    assert (result["grade"], result["peak_index"], result["not_gradable"]) == (1, 0, [1])
    none = invoke(["grade", "crs", "-"], stdin=json.dumps([{}, {"hypotension": True}]))
    assert json.loads(none.stdout)["grade"] is None


# contract v2 item 2: paracetamol premedication before any fever is not CRS therapy.
def test_crs_premedication_in_an_episode_does_not_make_crs() -> None:
    episode = [
        {"temperature_c": 37.0, "antipyretic_or_anticytokine_given": True, "hypotension": True}
    ]
    done = invoke(["grade", "crs", "-"], stdin=json.dumps(episode))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["grade"] == 0
    assert any("premedication" in r for r in result["reasons"])
    # the same observation alone keeps the v1 meaning: therapy given for CRS → 2
    single = invoke(["grade", "crs", "-"], stdin=json.dumps(episode[0]))
    assert json.loads(single.stdout)["grade"] == 2
    # documented fever before the therapy (e.g. at home) makes it CRS therapy → 2
    dated = [{**episode[0], "fever_before_therapy": True}]
    assert json.loads(invoke(["grade", "crs", "-"], stdin=json.dumps(dated)).stdout)["grade"] == 2


def test_icans_episode_without_timestamps_has_no_timing() -> None:
    episode = [{**ICANS, "consciousness": "alert"}, ICANS, {"age_years": 62, "ice_score": 10}]
    done = run(["grade", "icans", "-"], stdin=json.dumps(episode))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [o["grade"] for o in result["observations"]] == [1, 2, 0]
    assert (result["grade"], result["peak_index"]) == (2, 1)
    assert "onset" not in result


def test_series_out_of_time_order_names_the_item() -> None:
    series = [
        {"neutrophils_10e9_l": 0.4, "observed_at": "2024-05-03"},
        {"neutrophils_10e9_l": 0.9, "observed_at": "2024-05-01"},
    ]
    _assert_bad_input(run(["grade", "cytopenia", "-"], stdin=json.dumps(series)), "[1].observed_at")


def test_series_item_errors_carry_the_index_and_all_are_reported() -> None:
    series = [
        {"neutrophils_10e9_l": 0.4},
        {"neutrophils_10e9_l": -1},
        "not an object",
        {"platelets": 30},
    ]
    lines = _assert_bad_input(
        invoke(["grade", "cytopenia", "-"], stdin=json.dumps(series)),
        "[1].neutrophils_10e9_l",
        "[2]",
        "[3].platelets",
    )
    assert "[3].platelets: unknown field" in lines


def test_empty_series_is_an_error() -> None:
    _assert_bad_input(invoke(["grade", "cytopenia", "-"], stdin="[]"), "input")


BAD_FIELDS = [
    ("grade crs", {"temperature_c": 46}, "temperature_c"),
    ("grade crs", {"vasopressors": ["levophed"]}, "vasopressors[0]"),
    ("grade crs", {"oxygen_device": "nasal_cannula"}, "oxygen_flow_l_min"),
    ("grade crs", {"oxygen_device": "tent"}, "oxygen_device"),
    ("grade crs", {"hypotension": 1}, "hypotension"),
    (
        "grade crs",
        {"antipyretic_or_anticytokine_given": True, "fever_before_therapy": "yes"},
        "fever_before_therapy",
    ),
    ("grade crs", {"temperature_c": 37.0, "fever_before_therapy": True}, "fever_before_therapy"),
    (
        "grade crs",
        [
            {"temperature_c": 39.0},
            {"antipyretic_or_anticytokine_given": True, "fever_before_therapy": 1},
        ],
        "[1].fever_before_therapy",
    ),
    ("grade icans", {"age_years": 50, "ice_items": {"orientation": 5}}, "ice_items.orientation"),
    ("grade icans", {"ice_score": 10}, "age_years"),
    ("grade cytopenia", {"neutrophils_10e9_l": "0.8"}, "neutrophils_10e9_l"),
    (
        "grade cytopenia",
        {"neutrophils_10e9_l": 1.0, "lln": {"neutrophils_10e9_l": -2}},
        "lln.neutrophils_10e9_l",
    ),
    (
        "grade cytopenia",
        {"platelets_10e9_l": 50, "transfusion_indicated": "yes"},
        "transfusion_indicated",
    ),
    ("eligibility", {**ELIGIBLE, "age_years": 130}, "age_years"),
    ("eligibility", {**ELIGIBLE, "prior_lines": [{"agents": []}]}, "prior_lines[0].agents"),
    ("eligibility", {**ELIGIBLE, "product": "tisa-cel"}, "product"),
    ("schedule", {**SCHEDULE, "infusion_date": "06/01/2025"}, "infusion_date"),
    ("assess response", {"baseline": {}}, "assessment"),
    ("assess response", {**RESPONSE, "nadir": {"spleen_cm": True}}, "nadir.spleen_cm"),
    # contract v2 item 4: the B-lymphocyte count on every measurement set, the BCRi flag
    (
        "assess response",
        {**RESPONSE, "assessment": {"b_lymphocytes_10e9_l": -0.1}},
        "assessment.b_lymphocytes_10e9_l",
    ),
    (
        "assess response",
        {**RESPONSE, "baseline": {"b_lymphocytes_10e9_l": "7"}},
        "baseline.b_lymphocytes_10e9_l",
    ),
    (
        "assess response",
        {**RESPONSE, "nadir": {"b_lymphocytes_10e9_l": True}},
        "nadir.b_lymphocytes_10e9_l",
    ),
    ("assess response", {**RESPONSE, "bcr_inhibitor_ongoing": "yes"}, "bcr_inhibitor_ongoing"),
    ("assess response", {**RESPONSE, "bcr_inhibitor_ongoing": 1}, "bcr_inhibitor_ongoing"),
]


@pytest.mark.parametrize("where", ["baseline", "assessment", "nadir"])
def test_a_b_count_above_the_total_exits_2_with_the_field_path(where: str) -> None:
    document: dict[str, Any] = {**RESPONSE, "nadir": {}}
    document[where] = {"lymphocytes_10e9_l": 8, "b_lymphocytes_10e9_l": 8.5}
    lines = _assert_bad_input(invoke(["assess", "response", "-"], stdin=json.dumps(document)))
    assert lines == [
        f"{where}.b_lymphocytes_10e9_l: B lymphocytes (8.5 ×10⁹/L) cannot exceed total "
        "lymphocytes (8 ×10⁹/L)"
    ]


def test_a_b_count_equal_to_the_total_is_assessed() -> None:
    document = {**RESPONSE, "baseline": {**RESPONSE["baseline"], "b_lymphocytes_10e9_l": 40.0}}
    done = invoke(["assess", "response", "-"], stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["response"] == "PD"


@pytest.mark.parametrize(("name", "document", "path"), BAD_FIELDS)
def test_bad_value_exits_2_naming_the_field(name: str, document: object, path: str) -> None:
    args, _ = COMMANDS[name]
    _assert_bad_input(invoke([*args, "-"], stdin=json.dumps(document)), path)


@pytest.mark.parametrize("name", COMMANDS)
def test_unknown_field_is_rejected_by_the_process(name: str) -> None:
    args, document = COMMANDS[name]
    lines = _assert_bad_input(
        run([*args, "-"], stdin=json.dumps({**document, "temprature": 39})), "temprature"
    )
    assert lines == ["temprature: unknown field"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "input: not valid JSON"),
        ('{"neutrophils_10e9_l": NaN}', "input: not valid JSON: NaN is not allowed"),
        ('{"neutrophils_10e9_l": 1e999}', "input: not valid JSON: number 1e999 is too large"),
        ("", "input: not valid JSON"),
        ('{"neutrophils_10e9_l": 1, "neutrophils_10e9_l": 0.2}', "neutrophils_10e9_l: duplicate"),
        ('[{"lln": {"hemoglobin_g_dl": 12, "hemoglobin_g_dl": 11}}]', "[0].lln.hemoglobin_g_dl"),
    ],
)
def test_not_strict_json_exits_2(text: str, problem: str) -> None:
    lines = _assert_bad_input(invoke(["grade", "cytopenia", "-"], stdin=text))
    assert lines[0].startswith(problem), lines


def test_not_json_as_a_process_exits_2() -> None:
    lines = _assert_bad_input(run(["eligibility", "-"], stdin="eligible: yes"))
    assert lines[0].startswith("input: not valid JSON")


def test_missing_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    lines = _assert_bad_input(run(["schedule", str(missing)]))
    assert lines == [f"{missing}: cannot read file: No such file or directory"]


@pytest.mark.parametrize(
    "args",
    [
        ["schedule", "--format", "xml", "-"],
        ["schedule"],
        ["grade", "cytopenia", "--output", "out.csv", "-"],
        ["grade", "cytopenia", "--csv", "in.csv"],
        ["grade", "nothing", "-"],
    ],
)
def test_usage_errors_exit_2_with_nothing_on_stdout(args: list[str]) -> None:
    done = invoke(args, stdin="{}")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip()


def test_crs_text_format_says_not_gradable_in_words() -> None:
    episode = [{"temperature_c": 37.0}, {"hypotension": True}]
    done = invoke(["grade", "crs", "--format", "text", "-"], stdin=json.dumps(episode))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Grade: 0"
    assert "Not gradable: 1" in lines
    assert "  [1]: not gradable" in lines
    alone = invoke(["grade", "crs", "--format", "text", "-"], stdin="{}")
    assert alone.stdout.splitlines()[0] == "Grade: not gradable"
