"""Report figures build as standalone Figure objects, carry the risk table, and save."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from cartwatch.outcomes.plots import (
    ForestRow,
    GradePrevalence,
    SwimmerLane,
    forest_plot,
    km_plot,
    save_png,
    swimmer_plot,
    to_svg,
    toxicity_prevalence_plot,
)
from cartwatch.outcomes.rates import clopper_pearson
from cartwatch.outcomes.survival import kaplan_meier, numbers_at_risk

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def curves() -> dict[str, object]:
    rng = np.random.default_rng(7)
    out = {}
    for arm, scale in (("Arm A", 10.0), ("Arm B", 20.0)):
        t = rng.exponential(scale, 80).round(1)
        out[arm] = kaplan_meier(t, rng.random(80) < 0.7, conf_type="log-log")
    return out


def test_km_plot_has_numbers_at_risk_aligned_to_ticks(curves: dict, tmp_path: Path) -> None:
    fig = km_plot(curves, title="PFS", xlabel="Months", risk_times=[0, 10, 20, 30])
    main, risk = fig.axes
    assert risk.get_label() == "numbers-at-risk"
    assert list(main.get_xticks()) == [0, 10, 20, 30]
    texts = [(t.get_position()[0], t.get_text()) for t in risk.texts]
    expected = [
        (float(x), str(n))
        for km in curves.values()
        for x, n in zip([0, 10, 20, 30], numbers_at_risk(km, [0, 10, 20, 30]), strict=True)
    ]
    assert texts == expected
    assert "log-log" in fig._suptitle.get_text()  # method and transform stated
    path = save_png(fig, tmp_path / "km.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_figures_do_not_touch_pyplot_state(curves: dict) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    km_plot(curves)
    assert plt.get_fignums() == before
    assert matplotlib.get_backend()  # no backend switch needed


def test_forest_swimmer_toxicity_build_and_save(tmp_path: Path) -> None:
    r = clopper_pearson(29, 65)
    forest = forest_plot([ForestRow("All", r.rate, r.ci, 29, 65)], reference=0.45)
    swim = swimmer_plot(
        [
            SwimmerLane("P1", 12.0, ongoing=True, response=((1.0, "PR"), (3.0, "CR"))),
            SwimmerLane("P2", 5.0, progression=4.0, death=5.0),
        ]
    )
    tox = toxicity_prevalence_plot(
        [GradePrevalence("CRS (ASTCT 2019)", {1: [0, 2, 1], 2: [0, 1, 1]})], [0, 1, 2], n=4
    )
    for name, fig in (("forest", forest), ("swimmer", swim), ("tox", tox)):
        assert save_png(fig, tmp_path / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
        assert to_svg(fig).lstrip().startswith("<?xml")


def test_empty_inputs_raise() -> None:
    with pytest.raises(ValueError):
        km_plot({})
    with pytest.raises(ValueError):
        forest_plot([])
    with pytest.raises(ValueError, match="counts for 2 days"):
        toxicity_prevalence_plot([GradePrevalence("CRS", {1: [0]})], [0, 1], n=3)
    with pytest.raises(ValueError):
        swimmer_plot([])


def test_swimmer_lanes_top_down_labelled_and_legend_above() -> None:
    lanes = [SwimmerLane(f"P{i}", 10.0 - i, ongoing=i == 0) for i in range(3)]
    fig = swimmer_plot(lanes)
    (ax,) = fig.axes
    labels = [(t.get_position()[1], t.get_text()) for t in ax.texts]
    assert labels == [(0, "P0"), (1, "P1"), (2, "P2")]  # first lane on top (inverted y)
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # legend above the lanes


def test_toxicity_prevalence_stacks_percent_of_n() -> None:
    fig = toxicity_prevalence_plot(
        [GradePrevalence("CRS", {1: [1, 2], 3: [1, 0]}), GradePrevalence("ICANS", {2: [0, 1]})],
        [0, 1],
        n=4,
    )
    crs, icans = fig.axes
    assert crs.get_title(loc="left") == "CRS"
    # Any-grade outline: (1 + 1) / 4 = 50% on day 0, 2 / 4 = 50% on day 1.
    outline = crs.lines[-1].get_ydata()
    assert list(outline) == [50.0, 50.0, 50.0]
    assert crs.get_ylim() == icans.get_ylim()
