"""Form 4100 values of one reporting period: contact and survival, best response (iwCLL
2018), relapse, new therapy, CRS and ICANS (ASTCT 2019), cytopenias (CTCAE v5.0).

Every grade is the clinical engines': the patient's post-infusion CRS series is split into
episodes and each graded with ``grade_crs_episode`` (therapy for CRS carried forward within
its episode, premedication not) by the one episode rule, ``clinical.episodes.grade_by_episode``
(as ADaM and the web app), the ICANS series likewise with ``grade_icans_episode``, each blood
count with ``grade_counts``; a period then takes the observations dated in it. Missing data
stay missing: a CRS observation that is not gradable (no temperature before therapy for CRS)
never turns a period into "No CRS" or a lower maximum grade; no observation in a period is
"missing", never "No".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from cartwatch.centre.records import FollowupEvent, Timepoint
from cartwatch.clinical import crs, cytopenia, icans, iwcll
from cartwatch.clinical.episodes import grade_by_episode
from cartwatch.interop.cibmtr import (
    PatientRows,
    SourceRef,
    Value,
    day_of,
    missing,
    not_applicable,
    not_collected,
    present,
)
from cartwatch.interop.cibmtr_forms import Element

#: The manual's approximate range of each time point's date of contact, as (days before,
#: days after) the time point (``FORMS["4100"]``: 100 d ±15, 6 m ±30, 1 y +60, then ±30).
CONTACT_RANGE = {"100d": (15, 15), "6m": (30, 30), "1y": (0, 60)}
ANNUAL_RANGE = (30, 30)

#: iwCLL 2018 response → the 4100 best-response option (cartwatch's mapping, UNVERIFIED).
BEST_RESPONSE = {
    iwcll.Response.CR: "Complete response",
    iwcll.Response.CRI: "Complete response",
    iwcll.Response.PR: "Partial response",
    iwcll.Response.PR_L: "Partial response",
    iwcll.Response.SD: "No response",
    iwcll.Response.PD: "Disease progression",
    iwcll.Response.NE: "Not evaluated",
}

#: Prolonged cytopenia: the count nearest day 28 (±7) after the infusion, grade ≥3 of
#: neutrophil or platelet count decreased (cartwatch's ADaM PROLCYFL definition).
PROLONGED_DAY, PROLONGED_WINDOW, PROLONGED_GRADE = 28, 7, 3
#: The element key prefixes of the CRS and ICANS questions, and their names in words.
TOXICITIES = {"crs": "CRS", "icans": "ICANS"}
_TERMS = (cytopenia.NEUTROPHIL_TERM, cytopenia.PLATELET_TERM)
_NADIR_FIELDS = ("lymph_nodes_spd_cm2", "spleen_cm", "b_lymphocytes_10e9_l")


@dataclasses.dataclass(frozen=True)
class Graded:
    """One graded observation or count: its day, its row, and grade(s) and reasons."""

    day: dt.date
    ref: SourceRef
    grade: int | None
    reasons: tuple[str, ...] = ()
    grades: dict[str, int | None] = dataclasses.field(default_factory=dict)
    # CRS/ICANS: index of its episode in the patient's series (episodes.grade_by_episode)
    episode: int = 0


@dataclasses.dataclass(frozen=True)
class Response:
    day: dt.date
    ref: SourceRef
    response: iwcll.Response


def _series(
    rows: Sequence[tuple[SourceRef, Any]], infusion: dt.date
) -> list[tuple[SourceRef, Any]]:
    timed = [(ref, r) for ref, r in rows if day_of(r.observed_at) >= infusion]
    return sorted(timed, key=lambda rr: _moment(rr[1].observed_at))


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


class FollowUpContext:
    """A patient's graded series, computed once and sliced per reporting period."""

    def __init__(self, p: PatientRows, infusion: dt.date, as_of: dt.date) -> None:
        self.p = p
        self.infusion = infusion
        self.as_of = as_of
        self.crs = self._crs()
        self.icans = self._icans()
        self.labs = self._labs()
        self.responses = self._responses()
        self.events = sorted(p.of("followup"), key=lambda e: e[1].event_date)
        self.doses = sorted(p.of("treatments"), key=lambda d: d[1].given_at)
        self.contacts = sorted(p.dated(), key=lambda d: (d[0], d[1].file, d[1].index))

    # ------------------------------------------------------------------ grading (once)

    def _crs(self) -> list[Graded]:
        def domain(row: Any) -> Any:
            return dataclasses.replace(row.to_domain(), observed_at=row.observed_at)

        return self._episode_series("crs_observations", domain, crs.grade_crs_episode)

    def _icans(self) -> list[Graded]:
        def domain(row: Any) -> Any:
            return icans.at_time(row.to_domain(), row.observed_at)

        return self._episode_series("icans_observations", domain, icans.grade_icans_episode)

    def _episode_series(
        self, stem: str, domain: Callable[[Any], Any], grade_episode: Callable[[Any], Any]
    ) -> list[Graded]:
        """The patient's post-infusion observations of *stem*, split into episodes and each
        graded on its own observations (so therapy for CRS carries forward within its
        episode only), numbered by episode so an episode's onset is reported once, on the
        form of the period it began in."""
        rows = _series(self.p.of(stem), self.infusion)
        if not rows:
            return []
        times = [_moment(r.observed_at) for _, r in rows]
        episodes = grade_by_episode([domain(r) for _, r in rows], times, grade_episode)
        return [
            Graded(day_of(r.observed_at), ref, g.grade, g.reasons, episode=k)
            for k, (start, episode) in enumerate(episodes)
            for (ref, r), g in zip(
                rows[start : start + len(episode.observations)], episode.observations, strict=True
            )
        ]

    def _labs(self) -> list[Graded]:
        out = []
        for ref, r in _series(self.p.of("labs"), self.infusion):
            if r.counts_missing:
                continue  # lymphocytes only: nothing for CTCAE to grade
            g = cytopenia.grade_cytopenia(r.to_domain())
            out.append(Graded(day_of(r.observed_at), ref, None, g.reasons, dict(g.grades)))
        return out

    def _responses(self) -> list[Response]:
        rows = self.p.of("response_assessments")
        baselines = [
            r
            for _, r in rows
            if r.timepoint is Timepoint.BASELINE and r.assessed_at <= self.infusion
        ]
        posts = sorted(
            ((ref, r) for ref, r in rows if r.timepoint is Timepoint.POST),
            key=lambda rr: rr[1].assessed_at,
        )
        if not baselines:
            return [Response(r.assessed_at, ref, iwcll.Response.NE) for ref, r in posts]
        baseline = max(baselines, key=lambda r: r.assessed_at).to_domain()
        best: dict[str, float] = {}
        out: list[Response] = []
        for m, ref, row in [(baseline, None, None), *((r.to_domain(), ref, r) for ref, r in posts)]:
            if ref is not None and row is not None:
                nadir = iwcll.Measurements(
                    lymph_nodes_spd_cm2=best.get("lymph_nodes_spd_cm2"),
                    spleen_cm=best.get("spleen_cm"),
                    b_lymphocytes_10e9_l=best.get("b_lymphocytes_10e9_l"),
                )
                result = iwcll.assess_response(
                    baseline, m, nadir, bcr_inhibitor_ongoing=row.bcr_inhibitor_ongoing
                )
                out.append(Response(row.assessed_at, ref, result.response))
            # the nadir so far: smallest node SPD, spleen and B count (as adam.adrs)
            for name in _NADIR_FIELDS:
                value = m.number(name)
                if value is not None and (name not in best or value < best[name]):
                    best[name] = value
        return out

    # ------------------------------------------------------------------ one period

    def values(
        self, elements: Sequence[Element], label: str, start: dt.date, end: dt.date, day: int
    ) -> list[Value]:
        period = Period(self, label, start, end, day)
        return [period.value(e) for e in elements]


@dataclasses.dataclass
class Period:
    """One 4100 reporting period [start, end] of a patient (end = the time point or death)."""

    ctx: FollowUpContext
    label: str
    start: dt.date
    end: dt.date
    day: int

    def _in(self, when: dt.date) -> bool:
        return self.start <= when <= self.end

    def _days(self) -> str:
        first = (self.start - self.ctx.infusion).days
        return f"day {first}–{(self.end - self.ctx.infusion).days} after the infusion"

    def value(self, e: Element) -> Value:
        if not e.collected:
            return not_collected(e)
        toxicity, _, aspect = e.key.partition("_")
        if toxicity in TOXICITIES:
            return self._toxicity_value(e, TOXICITIES[toxicity], aspect)
        method = getattr(self, f"_{e.key}")
        result: Value = method(e)
        return result

    # ------------------------------------------------------------------ survival

    def _death(self) -> tuple[SourceRef, Any] | None:
        death = self.ctx.p.death()
        return death if death is not None and self._in(death[1].event_date) else None

    def _contact(self) -> tuple[dt.date, SourceRef, bool] | None:
        """(date, row, within the manual's range) of the contact nearest the time point."""
        death = self._death()
        if death is not None:
            return death[1].event_date, death[0], True
        before, after = CONTACT_RANGE.get(self.label, ANNUAL_RANGE)
        target = self.ctx.infusion + dt.timedelta(days=self.day)
        low, high = target - dt.timedelta(days=before), target + dt.timedelta(days=after)
        upper = min(high, self.ctx.as_of)
        found = [(d, ref) for d, ref in self.ctx.contacts if self.start <= d <= upper]
        if not found:
            return None
        d, ref = min(found, key=lambda c: (abs((c[0] - target).days), c[0] > target))
        return d, ref, low <= d <= high

    def _date_of_contact(self, e: Element) -> Value:
        contact = self._contact()
        if contact is None:
            return missing(
                e,
                f"nothing recorded for the patient {self._days()}: record the follow-up "
                "visit (a follow-up 'last contact' event) nearest the time point",
            )
        d, ref, inside = contact
        if self._death() is not None:
            return present(e, d.isoformat(), "date of death (the manual: contact = death)", ref)
        where = "within" if inside else "OUTSIDE"
        text = f"nearest recorded contact to day {self.day}, {where} the manual's approximate range"
        return present(e, d.isoformat(), text, ref)

    def _survival_status(self, e: Element) -> Value:
        death = self._death()
        if death is not None:
            return present(e, "Dead", f"death recorded on {death[1].event_date}", death[0])
        contact = self._contact()
        if contact is None:
            return missing(e, f"no contact recorded {self._days()}: alive or dead is unknown")
        return present(e, "Alive", f"alive at the recorded contact of {contact[0]}", contact[1])

    # ------------------------------------------------------------------ response

    def _eligible_responses(self) -> list[Response]:
        """Post-infusion assessments up to the period's end, before new therapy and up to
        and including the first PD (the responses the best response counts)."""
        stop = next(
            (r.event_date for _, r in self.ctx.events if r.event is FollowupEvent.NEW_THERAPY),
            None,
        )
        out: list[Response] = []
        for r in self.ctx.responses:
            if r.day > self.end or (stop is not None and r.day >= stop):
                break
            out.append(r)
            if r.response is iwcll.Response.PD:
                break
        return out

    def _best(self) -> tuple[iwcll.Response, Response] | None:
        used = self._eligible_responses()
        if not used:
            return None
        best = iwcll.best_overall_response([r.response for r in used])
        return best, next(r for r in used if r.response is best)

    def _best_response(self, e: Element) -> Value:
        best = self._best()
        if best is None:
            return missing(
                e,
                f"no post-infusion iwCLL assessment by {self.end} (before any new therapy, "
                "which ends the best-response window): record the response assessment",
            )
        response, first = best
        n = len(self._eligible_responses())
        return present(
            e,
            BEST_RESPONSE[response],
            f"iwCLL 2018 best of {n} assessment(s) before new therapy/first PD: "
            f"{response.value}, first on {first.day}",
            first.ref,
        )

    def _best_response_date(self, e: Element) -> Value:
        best = self._best()
        if best is None:
            return missing(e, "no best response yet (no post-infusion assessment)")
        response, first = best
        if response is iwcll.Response.NE:
            return not_applicable(e, "best response not evaluable (NE): no date", first.ref)
        text = f"first assessment with {response.value}"
        return present(e, first.day.isoformat(), text, first.ref)

    def _followed_past_end(self) -> dt.date | None:
        later = [d for d, _ in self.ctx.contacts if d >= self.end]
        return min(later) if later else None

    def _event_question(
        self, e: Element, found: list[tuple[dt.date, SourceRef, str]], what: str
    ) -> Value:
        if found:
            d, ref, text = min(found, key=lambda f: f[0])
            return present(e, "Yes", f"{text} on {d}", ref)
        past = self._followed_past_end()
        if past is None:
            return missing(
                e,
                f"no {what} recorded {self._days()}, but nothing is recorded after {self.end}: "
                "record the follow-up (a 'last contact' event) to confirm",
            )
        return present(
            e, "No", f"no {what} recorded {self._days()}; the patient is followed to {past}"
        )

    def _relapse_or_progression(self, e: Element) -> Value:
        found = [
            (r.day, r.ref, "iwCLL PD at assessment")
            for r in self.ctx.responses
            if r.response is iwcll.Response.PD and self._in(r.day)
        ]
        found += [
            (row.event_date, ref, "progression event")
            for ref, row in self.ctx.events
            if row.event is FollowupEvent.PROGRESSION and self._in(row.event_date)
        ]
        return self._event_question(e, found, "progression")

    def _subsequent_therapy(self, e: Element) -> Value:
        found = [
            (row.event_date, ref, f"new therapy ({row.detail or 'agents not recorded'})")
            for ref, row in self.ctx.events
            if row.event is FollowupEvent.NEW_THERAPY and self._in(row.event_date)
        ]
        return self._event_question(e, found, "new therapy")

    # ------------------------------------------------------------------ CRS / ICANS

    def _toxicity(self, series: list[Graded]) -> tuple[list[Graded], list[Graded], list[Graded]]:
        """(observations in the period, those of grade ≥1, those not gradable)."""
        inside = [g for g in series if self._in(g.day)]
        return (
            inside,
            [g for g in inside if g.grade is not None and g.grade >= 1],
            [g for g in inside if g.grade is None],
        )

    def _occurred(self, e: Element, series: list[Graded], name: str) -> Value:
        inside, hits, ungradable = self._toxicity(series)
        if hits:
            worst = max(hits, key=lambda g: g.grade or 0)
            return present(
                e,
                "Yes",
                f"{name} grade {worst.grade} (ASTCT 2019) on {worst.day}, "
                f"{len(hits)} of {len(inside)} observation(s) {self._days()} grade ≥1",
                worst.ref,
            )
        if not inside:
            return missing(
                e,
                f"no {name} assessment recorded {self._days()}: record whether "
                f"{name} occurred (a daily assessment), or answer from the chart",
            )
        if ungradable:
            return missing(
                e,
                f"{len(ungradable)} of {len(inside)} {name} observation(s) {self._days()} are not "
                f"gradable (temperature missing): {name} cannot be ruled out — complete them",
                *(g.ref for g in ungradable),
            )
        return present(e, "No", f"all {len(inside)} {name} observation(s) {self._days()} grade 0")

    def _episode_start(self, series: list[Graded]) -> Graded:
        """The first grade ≥1 observation of the episode that the period's first
        observation of grade ≥1 belongs to (perhaps in an earlier period)."""
        first = self._toxicity(series)[1][0]
        return next(
            g for g in series if g.episode == first.episode and g.grade is not None and g.grade >= 1
        )

    def _unless_occurred(self, e: Element, series: list[Graded], name: str) -> Value | None:
        """The answer to a question about the episode when there is nothing to ask about: not
        applicable without the toxicity, missing when whether it occurred is not known."""
        occurred = self._occurred(e, series, name)
        if occurred.value == "No":
            return not_applicable(e, f"no {name} {self._days()}")
        if occurred.value != "Yes":
            return missing(e, f"whether {name} occurred is not known (see that question)")
        return None

    def _onset(self, e: Element, series: list[Graded], name: str) -> Value:
        unless = self._unless_occurred(e, series, name)
        if unless is not None:
            return unless
        start = self._episode_start(series)
        if start.day < self.start:
            return not_applicable(
                e, f"{name} began on {start.day}, in an earlier period (reported there)", start.ref
            )
        text = f"first {name} observation of grade ≥1"
        return present(e, start.day.isoformat(), text, start.ref)

    def _previously_reported(self, e: Element, series: list[Graded], name: str) -> Value:
        unless = self._unless_occurred(e, series, name)
        if unless is not None:
            return unless
        start = self._episode_start(series)
        if start.day < self.start:
            return present(e, "Yes", f"the {name} episode began on {start.day}", start.ref)
        text = f"the {name} episode began in this period, on {start.day}"
        return present(e, "No", text, start.ref)

    def _maximum(self, e: Element, series: list[Graded], name: str) -> Value:
        unless = self._unless_occurred(e, series, name)
        if unless is not None:
            return unless
        inside, hits, ungradable = self._toxicity(series)
        worst = max(hits, key=lambda g: g.grade or 0)
        if ungradable:
            return missing(
                e,
                f"grade {worst.grade} from the gradable observations, but {len(ungradable)} "
                f"observation(s) are not gradable and may hide a higher grade: complete them",
                *(g.ref for g in ungradable),
            )
        return present(
            e,
            str(worst.grade),
            f"maximum of {len(inside)} {name} observation(s), ASTCT 2019, grade {worst.grade} "
            f"on {worst.day}",
            worst.ref,
        )

    def _doses(self, indication: str) -> list[tuple[SourceRef, Any]]:
        return [
            (ref, r)
            for ref, r in self.ctx.doses
            if r.indication.value == indication and self._in(day_of(r.given_at))
        ]

    def _therapy(self, e: Element, series: list[Graded], name: str, agents: bool) -> Value:
        occurred = self._occurred(e, series, name)
        if occurred.value == "No":
            return not_applicable(e, f"no {name} {self._days()}")
        doses = self._doses(name.lower())
        if not doses:
            if agents:
                return missing(e, f"no dose for {name} recorded {self._days()}")
            return missing(
                e,
                f"no dose for {name} recorded {self._days()}: record the doses given, or "
                "answer No on FormsNet if none was",
            )
        refs = [ref for ref, _ in doses]
        if not agents:
            return present(e, "Yes", f"{len(doses)} dose(s) for {name} recorded", *refs)
        counts: dict[str, int] = {}
        for _, r in doses:
            name_of = r.agent_other if r.agent_other else r.agent.value
            counts[name_of] = counts.get(name_of, 0) + 1
        text = "; ".join(f"{agent} ×{n}" for agent, n in counts.items())
        return present(e, text, f"doses for {name} in treatments.csv", *refs)

    def _toxicity_value(self, e: Element, name: str, aspect: str) -> Value:
        """``crs``, ``crs_date_of_diagnosis``, ``crs_maximum_grade``, ``crs_therapy_given``,
        ``crs_therapy`` and the same for ``icans``."""
        series = self.ctx.crs if name == "CRS" else self.ctx.icans
        if aspect == "":
            return self._occurred(e, series, name)
        if aspect == "date_of_diagnosis":
            return self._onset(e, series, name)
        if aspect == "date_previously_reported":
            return self._previously_reported(e, series, name)
        if aspect == "maximum_grade":
            return self._maximum(e, series, name)
        return self._therapy(e, series, name, agents=aspect == "therapy")

    # ------------------------------------------------------------------ cytopenias

    def _prolonged_cytopenia(self, e: Element) -> Value:
        if self.label != "100d":
            return not_applicable(e, "asked on the 100-day form only (cartwatch's derivation)")
        target = self.ctx.infusion + dt.timedelta(days=PROLONGED_DAY)
        death = self._death()
        if death is not None and death[1].event_date < target - dt.timedelta(PROLONGED_WINDOW):
            when = death[1].event_date
            return not_applicable(e, f"died on {when}, before day {PROLONGED_DAY}", death[0])
        window = [g for g in self.ctx.labs if abs((g.day - target).days) <= PROLONGED_WINDOW]
        nearest: dict[str, Graded] = {}
        for term in _TERMS:
            measured = [g for g in window if term in g.grades]
            if measured:
                nearest[term] = min(measured, key=lambda g: abs((g.day - target).days))
        hits = [(t, g) for t, g in nearest.items() if (g.grades[t] or 0) >= PROLONGED_GRADE]
        if hits:
            term, g = hits[0]
            return present(
                e,
                "Yes",
                f"{term.replace('_', ' ')} grade {g.grades[term]} (CTCAE v5.0) on "
                f"{g.day}, the count nearest day {PROLONGED_DAY}",
                g.ref,
            )
        absent = [t.replace("_", " ") for t in _TERMS if t not in nearest]
        if absent:
            return missing(
                e,
                f"no {' or '.join(absent)} measured between day {PROLONGED_DAY - PROLONGED_WINDOW}"
                f" and {PROLONGED_DAY + PROLONGED_WINDOW}: record the blood count",
            )
        refs = sorted({g.ref for g in nearest.values()}, key=lambda r: r.index)
        return present(
            e,
            "No",
            f"neutrophil and platelet counts nearest day {PROLONGED_DAY} below grade "
            f"{PROLONGED_GRADE} (CTCAE v5.0)",
            *refs,
        )

    def _worst_cytopenia(self, e: Element) -> Value:
        inside = [g for g in self.ctx.labs if self._in(g.day)]
        parts, refs = [], []
        for term in _TERMS:
            measured = [g for g in inside if term in g.grades]
            if not measured:
                continue
            worst = max(measured, key=lambda g: g.grades[term] or 0)
            grade = worst.grades[term]
            words = f"grade {grade}" if grade is not None else "grade 0 or 1 (no LLN)"
            parts.append(f"{term.replace('_', ' ')} {words} on {worst.day}")
            refs.append(worst.ref)
        if not parts:
            return missing(e, f"no blood count recorded {self._days()}: record one")
        return present(e, "; ".join(parts), f"worst of {len(inside)} count(s), CTCAE v5.0", *refs)
