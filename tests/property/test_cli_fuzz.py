"""Any JSON value fed to any contract command gives a result (exit 0, one JSON object on
stdout) or the error path (exit 2, nothing on stdout, ``path: problem`` lines on stderr);
never a traceback. Inputs are arbitrary JSON, arbitrary text, and near-valid documents made
by mutating a valid one (the inputs most likely to slip past validation into the engines).
"""

from __future__ import annotations

import json
from typing import Any

import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cartwatch.cli import clinical_commands

# The clinical commands exactly as the cartwatch app registers them, on an app of their own:
# CliRunner rebuilds the Click command tree on every call, and the full app's tree (web,
# synth, adam, ...) costs several times more than the commands under test.
app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
clinical_commands.register(app)

VALID: dict[tuple[str, ...], dict[str, Any]] = {
    ("grade", "crs"): {
        "temperature_c": 39.1,
        "hypotension": True,
        "vasopressors": ["norepinephrine"],
        "oxygen_device": "nasal_cannula",
        "oxygen_flow_l_min": 4,
        "observed_at": "2024-05-01T10:00",
    },
    ("grade", "icans"): {
        "age_years": 64,
        "ice_items": {"orientation": 3, "naming": 3, "commands": 1, "writing": 0, "attention": 1},
        "consciousness": "awakens_to_voice",
        "attributable_to_other_cause": ["seizure"],
        "observed_at": "2024-05-01",
    },
    ("grade", "cytopenia"): {
        "neutrophils_10e9_l": 0.8,
        "platelets_10e9_l": 60,
        "hemoglobin_g_dl": 9.1,
        "lln": {"neutrophils_10e9_l": 1.8, "platelets_10e9_l": 150, "hemoglobin_g_dl": 12},
        "transfusion_indicated": False,
    },
    ("assess", "response"): {
        "baseline": {"lymph_nodes_spd_cm2": 20, "lymphocytes_10e9_l": 40, "spleen_cm": 16},
        "assessment": {
            "lymph_nodes_spd_cm2": 6,
            "lymphocytes_10e9_l": 3,
            "spleen_cm": 12,
            "marrow": "normocellular_no_cll",
            "mrd": {
                "result": "undetectable",
                "sensitivity": 1e-5,
                "sample": "blood",
                "method": "NGS",
            },
        },
    },
    ("eligibility",): {
        "product": "liso-cel",
        "diagnosis": "SLL",
        "age_years": 70,
        "relapsed_or_refractory": True,
        "prior_lines": [{"agents": ["zanubrutinib", "venetoclax"]}, {"agents": ["R-CHOP"]}],
        "as_of": "2025-01-01",
    },
    ("schedule",): {"product": "liso-cel", "infusion_date": "2025-06-26"},
}
COMMANDS = list(VALID)
SERIES = [c for c in COMMANDS if c[0] == "grade"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["none", "nasal_cannula", "CLL", "2024-03-14", "alert", "blood", "-1"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _all_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _all_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            paths += _all_paths(item, (*prefix, i))
    return paths


@st.composite
def near_valid(draw: st.DrawFn, document: dict[str, Any]) -> Any:
    """*document* with one to three mutations: a value replaced, a key removed or added."""
    doc = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _all_paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    if draw(st.booleans()):
        return doc
    return [doc] if draw(st.booleans()) else [document, doc]


def check(command: tuple[str, ...], text: str) -> None:
    result = CliRunner().invoke(app, [*command, "-"], input=text)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the test fails with it
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    if result.exit_code == 0:
        output = json.loads(result.stdout)
        assert isinstance(output, dict)
        assert isinstance(output["reasons"], list)
    else:
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines and all(": " in line for line in lines), lines


@given(st.sampled_from(COMMANDS), json_values)
def test_any_json_value_gives_a_result_or_exit_2(command: tuple[str, ...], value: Any) -> None:
    check(command, json.dumps(value))


@given(st.sampled_from(COMMANDS), st.data())
def test_near_valid_documents_give_a_result_or_exit_2(
    command: tuple[str, ...], data: st.DataObject
) -> None:
    value = data.draw(near_valid(VALID[command]))
    check(command, json.dumps(value))


@given(st.sampled_from(SERIES), st.lists(st.sampled_from([0, 1]), min_size=1, max_size=5))
def test_series_of_valid_items_give_a_result(command: tuple[str, ...], picks: list[int]) -> None:
    document = VALID[command]
    without_time = {k: v for k, v in document.items() if k != "observed_at"}
    check(command, json.dumps([(document, without_time)[p] for p in picks]))


@given(st.sampled_from(COMMANDS), st.text(max_size=60))
def test_any_text_gives_a_result_or_exit_2(command: tuple[str, ...], text: str) -> None:
    check(command, text)


def test_the_valid_documents_are_valid() -> None:
    """The mutation seeds themselves grade (else the near-valid test only sees errors)."""
    for command, document in VALID.items():
        result = CliRunner().invoke(app, [*command, "-"], input=json.dumps(document))
        assert result.exit_code == 0, (command, result.stderr)
