"""Contract v2 item 3 (cli-contract.md; issue 10 item 1, a patient-safety finding): "unable to
perform CAPD" is its own finding.

The ASTCT 2019 CAPD table ([S15], clinical-standards.md §1.5) grades "unable to perform CAPD"
4, and only findings not attributable to another cause count ([S11], §1.6). v1 excluded an
explicit ``capd_unable`` whenever *consciousness* was attributed to another cause, so an awake
child unable to do CAPD graded 0 while the same child with CAPD 12 graded 3: a worse finding
lowered the grade. v2: explicit ``capd_unable: true`` is excluded only when ``capd`` is
attributed; the v1 exclusion stays only for an unarousable patient with no ICE/CAPD value.
Each case below is one line of that rule, read as a document.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cartwatch.clinical.icans import Consciousness, IcansDomain, IcansObservation, grade_icans

C = Consciousness
D = IcansDomain
SEDATED = (D.CONSCIOUSNESS,)  # drowsiness attributed to another cause, e.g. sedation


@dataclass(frozen=True)
class Case:
    rule: str
    observation: IcansObservation
    grade: int


CASES = [
    *(
        Case(
            f"issue 10: child 8 y, capd_unable, consciousness attributed, {level.value} → 4",
            IcansObservation(
                8, capd_unable=True, consciousness=level, attributable_to_other_cause=SEDATED
            ),
            4,
        )
        for level in (C.AWAKENS_SPONTANEOUSLY, C.ALERT, C.AWAKENS_TO_VOICE)
    ),
    Case(
        "the same child with CAPD 12 is grade 3, so unable (4) is never below it",
        IcansObservation(
            8, capd_score=12, consciousness=C.AWAKENS_SPONTANEOUSLY,
            attributable_to_other_cause=SEDATED,
        ),
        3,
    ),
    Case(
        "age 12 is still CAPD: unable with consciousness attributed → 4",
        IcansObservation(12, capd_unable=True, attributable_to_other_cause=SEDATED),
        4,
    ),
    Case(
        "developmental delay at 30 y (CAPD): unable with consciousness attributed → 4",
        IcansObservation(
            30, developmental_delay=True, capd_unable=True,
            consciousness=C.AWAKENS_TO_VOICE, attributable_to_other_cause=SEDATED,
        ),
        4,
    ),
    Case(
        "unable to do CAPD attributed to another cause (capd listed) is excluded → 0",
        IcansObservation(8, capd_unable=True, attributable_to_other_cause=(D.CAPD,)),
        0,
    ),
    Case(
        "capd attributed, consciousness not: awakens to voice still counts → 2",
        IcansObservation(
            8, capd_unable=True, consciousness=C.AWAKENS_TO_VOICE,
            attributable_to_other_cause=(D.CAPD,),
        ),
        2,
    ),
    Case(
        "unarousable child, capd_unable, consciousness attributed: capd_unable counts → 4",
        IcansObservation(
            8, capd_unable=True, consciousness=C.UNAROUSABLE, attributable_to_other_cause=SEDATED
        ),
        4,
    ),
    Case(
        "v1 stays: unarousable child, no CAPD value, consciousness attributed → 0",
        IcansObservation(8, consciousness=C.UNAROUSABLE, attributable_to_other_cause=SEDATED),
        0,
    ),
    Case(
        "v1 stays: unarousable adult, no ICE value, consciousness attributed → 0",
        IcansObservation(50, consciousness=C.UNAROUSABLE, attributable_to_other_cause=SEDATED),
        0,
    ),
    Case(
        "a recorded ICE 0 in an unarousable adult is an ICE value: counted unless ice listed → 4",
        IcansObservation(
            50, ice_score=0, consciousness=C.UNAROUSABLE, attributable_to_other_cause=SEDATED
        ),
        4,
    ),
    Case(
        "… and excluded with ice listed as well → 0",
        IcansObservation(
            50, ice_score=0, consciousness=C.UNAROUSABLE,
            attributable_to_other_cause=(D.CONSCIOUSNESS, D.ICE),
        ),
        0,
    ),
    Case(
        "unarousable, no value, consciousness NOT attributed: unarousable → 4",
        IcansObservation(8, consciousness=C.UNAROUSABLE),
        4,
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_unable_to_perform_and_attribution(case: Case) -> None:
    assert grade_icans(case.observation).grade == case.grade


def test_the_reasons_say_why_an_unable_capd_still_counts() -> None:
    result = grade_icans(
        IcansObservation(
            8, capd_unable=True, consciousness=C.AWAKENS_SPONTANEOUSLY,
            attributable_to_other_cause=SEDATED,
        )
    )  # fmt: skip
    assert result.reasons == (
        "instrument: CAPD (age 8 years ≤ 12)",
        "CAPD unable to perform → grade 4 (a recorded CAPD result is its own finding: only "
        "'capd' in attributable_to_other_cause excludes it)",
        "depressed consciousness: awakens spontaneously: attributable to another cause, excluded",
        "worst domain not attributable to another cause: CAPD → grade 4",
    )


def test_the_cli_grades_the_issue_case_4() -> None:
    """The exact input of issue 10 through the JSON command (exit 0, grade 4)."""
    import json
    import subprocess
    import sys

    doc = {
        "age_years": 8,
        "capd_unable": True,
        "consciousness": "awakens_spontaneously",
        "attributable_to_other_cause": ["consciousness"],
    }
    run = subprocess.run(
        [sys.executable, "-m", "cartwatch.cli.app", "grade", "icans", "-"],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["grade"], out["instrument"]) == (4, "CAPD")
