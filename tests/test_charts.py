"""Charts that read true (issue 11 point 2, issue 16): curves stop at the last time with at least k
people at risk and never past their group's follow-up; at most five curves in a panel (small
multiples beyond); colours apart under colour blindness and told apart by line style too; dark
at-risk rows; Italian number formats on Italian axes; groups not drawn are named; alt texts state
the chart's finding, not its caption."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from ixl_eval import placement_time as pt  # noqa: E402
from ixl_eval.disclosure import protect  # noqa: E402
from ixl_eval.present import INK, LINESTYLES, PALETTE  # noqa: E402
from ixl_eval.report import placement_time as ptr  # noqa: E402
from ixl_eval.report import render  # noqa: E402
from ixl_eval.survival import KaplanMeier  # noqa: E402
from ixl_eval.survplot import at_risk_end, plot_km  # noqa: E402

K = 10


@pytest.fixture(scope="module")
def analysis(synth_dataset):
    return pt.analyse(synth_dataset)


@pytest.fixture(scope="module")
def tabs(analysis):
    t = ptr.tables(analysis, "it", K)
    protect(t.values(), K, relations=ptr.relations(analysis, t))
    return t


def _curves(fig):
    """(axes, line) of every drawn curve (censor marks and empty legend entries excluded)."""
    return [(ax, ln) for ax in fig.axes for ln in ax.get_lines()
            if ln.get_linewidth() >= 2 and len(ln.get_xdata()) > 1]


def _curve_panels(fig):
    return [ax for ax in fig.axes if any(ln.get_linewidth() >= 2 and len(ln.get_xdata()) > 1 for ln in ax.get_lines())]


def _check_curve_ends(fig, fits, k):
    by_label = {ln.get_label(): ln for _, ln in _curves(fig)}
    for g, km in fits.items():
        ln = by_label[str(g)] if str(g) in by_label else None
        if ln is None:
            continue
        x = np.asarray(ln.get_xdata(), float)
        end = float(x.max())
        # at least k at risk at the last drawn time, and never past the group's follow-up
        assert km.at_risk([end])[0] >= k, (g, end)
        assert end <= float(km.table_["time"].max()), (g, end)
        # the next observed time (if drawn to) would have fewer than k at risk
        later = km.table_["time"].to_numpy()
        later = later[later > end]
        if len(later) and end < fig.axes[0].get_xlim()[1] / 1.04 - 1e-9:
            assert km.at_risk([later[0]])[0] < k, (g, end)


# ------------------------------------------------------------------------------- curve ends
def test_curve_stops_at_last_time_with_k_at_risk_small_case():
    # 30 people: 10 placed on day 5, 10 censored on day 10, 10 followed to day 120 (censored):
    # the curve may go to day 120 (10 still at risk there) but never to the axis end
    km = KaplanMeier().fit([5] * 10 + [10] * 10 + [120] * 10, [1] * 10 + [0] * 20)
    fig = plot_km({"a": km}, k=10, xmax=730)
    (_, ln), = _curves(fig)
    assert max(ln.get_xdata()) == at_risk_end(km, 10) == 120.0
    # with k = 11 the last time with 11 at risk is day 10
    fig2 = plot_km({"a": km}, k=11, xmax=730)
    (_, ln2), = _curves(fig2)
    assert max(ln2.get_xdata()) == at_risk_end(km, 11) == 10.0
    plt.close(fig), plt.close(fig2)


def test_follow_up_ends_before_the_axis():
    # everyone censored on day 120 (a cohort enrolled 120 days ago): the flat tail to day 730 is not drawn
    km = KaplanMeier().fit(list(range(1, 41)) + [120] * 60, [1] * 40 + [0] * 60)
    fig = plot_km({"2024": km}, k=10, xmax=730)
    (_, ln), = _curves(fig)
    assert max(ln.get_xdata()) == 120.0
    plt.close(fig)


def test_survival_figures_on_bundled_data_end_at_k(analysis, tabs):
    for col in [None, *analysis.by]:
        t = ptr._time_table(tabs, col)
        every = list(ptr._fits(analysis, col).values())
        fits = {str(t.data.at[i, "group"]): every[i] for i in ptr._drawn(t)}
        fig = ptr.figure_km(analysis, tabs, col, "it", K)
        assert len(_curves(fig)) == len(fits)
        _check_curve_ends(fig, fits, K)
        plt.close(fig)


def test_2024_cohort_curve_stops_with_its_data(analysis, tabs):
    years = analysis.by["enrolment_year"]
    km = years[max(years)]
    follow = float(km.table_["time"].max())
    assert follow < 200  # the latest enrolment year has a few months of data
    fig = ptr.figure_km(analysis, tabs, "enrolment_year", "it", K)
    ln = [ln for _, ln in _curves(fig) if ln.get_label() == str(max(years))]
    assert ln and max(ln[0].get_xdata()) <= follow
    plt.close(fig)


# ---------------------------------------------------------------------------- panels, styles
def test_at_most_five_curves_per_panel(analysis, tabs):
    for col in analysis.by:
        fig = ptr.figure_km(analysis, tabs, col, "it", K)
        for ax in _curve_panels(fig):
            n = len([ln for ln in ax.get_lines() if ln.get_linewidth() >= 2 and len(ln.get_xdata()) > 1])
            assert n <= 5, (col, n)
        plt.close(fig)
    # eight enrolment years: small multiples, every curve still drawn once
    fig = ptr.figure_km(analysis, tabs, "enrolment_year", "it", K)
    assert len(_curve_panels(fig)) >= 2
    assert len(_curves(fig)) == len(ptr._drawn(tabs["tempo_per_enrolment_year"]))
    plt.close(fig)


def test_curves_differ_by_line_style_not_only_colour(analysis, tabs):
    fig = ptr.figure_km(analysis, tabs, "education", "it", K)
    for ax in _curve_panels(fig):
        lines = [ln for ln in ax.get_lines() if ln.get_linewidth() >= 2 and len(ln.get_xdata()) > 1]
        styles = [ln.get_linestyle() for ln in lines]
        assert len(set(styles)) == len(styles) > 1
    plt.close(fig)


def test_at_risk_rows_are_dark_text(analysis, tabs):
    fig = ptr.figure_km(analysis, tabs, "enrolment_year", "it", K)
    texts = [t for ax in fig.axes for t in ax.texts if t.get_text()]
    assert texts and {matplotlib.colors.to_hex(t.get_color()) for t in texts} == {INK}
    plt.close(fig)


def test_groups_not_drawn_are_named(analysis, tabs):
    t = tabs["tempo_per_gender"]
    hidden = [str(t.data.at[i, "group"]) for i in range(len(t.data)) if i not in ptr._drawn(t)]
    assert hidden  # gender X has fewer than k placements
    fig = ptr.figure_km(analysis, tabs, "gender", "it", K)
    notes = " ".join(x.get_text() for x in fig.texts)
    assert all(h.rstrip(".") in notes for h in hidden) and "Non disegnati" in notes
    assert all(ln.get_label() not in hidden for _, ln in _curves(fig))
    plt.close(fig)


def _lin(c):
    c = np.array([int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
_CVD = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}


@pytest.mark.parametrize("kind", ["normal", "deuteranopia", "protanopia"])
def test_palette_colours_stay_apart_under_colour_blindness(kind):
    def seen(c):
        rgb = _lin(c) if kind == "normal" else np.clip(_CVD[kind] @ _lin(c), 0, 1)
        return _lab(rgb)

    close = [(a, b, round(float(np.linalg.norm(seen(a) - seen(b))), 1))
             for a, b in itertools.combinations(PALETTE, 2) if np.linalg.norm(seen(a) - seen(b)) < 20]
    assert not close, f"{kind}: colours too alike (CIELAB distance < 20): {close}"
    assert len(LINESTYLES) >= len(PALETTE) and len({str(s) for s in LINESTYLES}) == len(LINESTYLES)


# ------------------------------------------------------------------------------ number format
def test_italian_axes_use_the_decimal_comma():
    f_it, f_en = render.tick_formatter("it"), render.tick_formatter("en")
    assert [f_it(v, None) for v in (0.05, 17.5, 1095)] == ["0,05", "17,5", "1.095"]
    assert [f_en(v, None) for v in (0.05, 17.5, 1095)] == ["0.05", "17.5", "1,095"]
    # a chart with matplotlib's default formatter, localised as Report.figure does
    fig, ax = plt.subplots()
    ax.plot([0, 0.5], [0, 17.5])
    render.localise_axes(fig, "it")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert any("," in x for x in labels) and not any("." in x for x in labels), labels
    plt.close(fig)


def test_survival_axes_italian_and_english(analysis, tabs):
    for lang, thousands in (("it", "."), ("en", ",")):
        t = ptr.tables(analysis, lang, K)
        protect(t.values(), K, relations=ptr.relations(analysis, t))
        fig = ptr.figure_km(analysis, t, "gender", lang, K)
        fig.canvas.draw()
        ticks = [x.get_text() for ax in fig.axes for x in ax.get_yticklabels() if x.get_text().endswith("%")]
        assert ticks and all("." not in x and "," not in x for x in ticks)
        counts = [x.get_text() for ax in fig.axes for x in ax.texts if len(x.get_text()) > 3]
        assert counts and all(thousands in c for c in counts if c[0].isdigit()), counts
        plt.close(fig)


# ---------------------------------------------------------------------------------- alt texts
def test_alt_texts_state_a_finding_and_point_to_the_table(analysis, tabs):
    alt = ptr.alt_km(analysis, tabs, "education", "it", K)
    t = tabs["tempo_per_education"]
    h = ptr._mid_horizon(analysis)
    shares = [render.pct_text(t.value(i, f"share_{h:g}"), "it") for i in ptr._drawn(t)]
    assert "trova lavoro prima" in alt and sum(s in alt for s in shares) >= 2
    assert "«Tempo all'inserimento per titolo di studio»" in alt
    en = ptr.alt_km(analysis, ptr.tables(analysis, "en", K), None, "en", K)
    assert "table" in en and "tabella" not in en
