"""Figures built without plotly's validation (charts.common.fast_figure, the Shape Lab's raw
window figure) must still be figures plotly accepts: each is passed through plotly's
validators here, so a misspelt key or a colour-scale name plotly.js does not know fails."""
import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from playground.charts import common
from playground.charts import filter_lab as filter_charts
from playground.charts import model as model_charts
from playground.charts import training as charts
from playground.charts.shape_lab import window_figure
from playground.core import filters
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings

RNG = np.random.default_rng(0)
BATCH_LOG = np.rec.fromarrays([np.arange(300), np.arange(300) * 128, RNG.random(300),
                               RNG.random(300).astype(np.float32)],
                              names="step,samples_seen,loss,accuracy")
EPOCHS = [dict(epoch=0, loss=0.3, accuracy=0.9, val_loss=0.25, val_accuracy=0.92),
          dict(epoch=1, loss=0.1, accuracy=0.97, val_loss=None, val_accuracy=None)]
ACTIVATION = dict(name="conv2d", type="Conv2D", shape=(28, 28, 8), min=-1.0, max=2.0,
                  values=RNG.standard_normal((28, 28, 8)).astype(np.float32))


def _window():
    settings = dict(shape_settings.defaults(), h=6, w=5, kh=3, kw=3, padding="same", sh=2, sw=2)
    report = lab.layer_report(settings)
    win = lab.window(settings, report, 1)
    return window_figure(win)


FIGURES = {
    "learning curves": lambda: charts.learning_curves_figure(BATCH_LOG, EPOCHS),
    "learning curves, no batches yet": lambda: charts.learning_curves_figure(None, []),
    "filters": lambda: model_charts.filters_figure(RNG.standard_normal((5, 5, 1, 16)), 0, "t"),
    "filters, every channel": lambda: model_charts.filters_figure(
        RNG.standard_normal((3, 3, 4, 8)), title="t"),
    "activations": lambda: charts.activations_figure(ACTIVATION),
    "probabilities": lambda: model_charts.probabilities_figure(RNG.random(10), 3),
    "digit": lambda: model_charts.digit_figure(RNG.random((28, 28)), "probe"),
    "labelled mosaic": lambda: common.mosaic_figure(RNG.random((6, 4, 4)), title="m",
                                                   colorscale=common.SEQUENTIAL,
                                                   labels=list("abcdef")),
    "shape lab window": _window,
    "picture, signed, pickable, window": lambda: filter_charts.picture_figure(
        RNG.standard_normal((40, 60)).astype(np.float32), "response", pickable=True,
        window=(3, 4, 8, 9)),
    "picture, colour": lambda: filter_charts.picture_figure(
        RNG.random((30, 20, 3)).astype(np.float32) * 255, "photo", colour=True),
    "feature-map stack": lambda: filter_charts.stack_figure(
        RNG.standard_normal((20, 30, 3)), ["a", "b", "c"], "stack"),
    "kernel": lambda: filter_charts.kernel_figure(filters.KERNELS["Sobel x (vertical edges)"]),
    "padded toy matrix": lambda: filter_charts.matrix_figure(
        np.arange(9.0).reshape(3, 3), "toy", is_pad=np.eye(3, dtype=bool)),
    "arithmetic, grey": lambda: filter_charts.arithmetic_figure(filters.explain_pixel(
        RNG.random((8, 8)).astype(np.float32), np.ones((3, 3), np.float32), 0, 0,
        padding="same")),
    "arithmetic, RGB": lambda: filter_charts.arithmetic_figure(filters.explain_pixel(
        RNG.random((8, 8, 3)).astype(np.float32), np.ones((3, 3, 3), np.float32), 2, 5)),
}


@pytest.mark.parametrize("name", FIGURES)
def test_unvalidated_figures_pass_plotlys_validation(name):
    spec = FIGURES[name]().to_dict()
    validated = go.Figure(spec)  # raises ValueError on any property plotly does not know
    assert len(validated.data) == len(spec["data"]) > 0
    for trace in validated.data:
        scale = getattr(trace, "colorscale", None)
        if scale is not None:  # explicit pairs, never a bare name plotly.js may not know
            assert all(isinstance(colour, str) for _, colour in scale)


def test_the_validation_above_can_fail():
    spec = model_charts.digit_figure(RNG.random((28, 28))).to_dict()
    spec["data"][0]["colourscale"] = spec["data"][0].pop("colorscale")
    with pytest.raises(ValueError):
        go.Figure(spec)


def test_scale_pairs_match_plotlys_own_reading_of_the_name():
    for name in (common.DIVERGING, common.SEQUENTIAL):
        theirs = go.Heatmap(colorscale=name).colorscale
        ours = common.scale_pairs(name)
        assert [colour for _, colour in theirs] == [colour for _, colour in ours]
        np.testing.assert_allclose([p for p, _ in theirs], [p for p, _ in ours], atol=1e-9)


def test_learning_curves_put_accuracy_on_the_right_panel():
    fig = charts.learning_curves_figure(BATCH_LOG, EPOCHS)
    by_name = {}
    for trace in fig.data:
        by_name.setdefault(trace.name, []).append(trace)
    raw_loss, raw_accuracy = by_name["batch loss"][0], by_name["batch accuracy"][0]
    assert raw_loss.xaxis == "x" and raw_accuracy.xaxis == "x2"
    np.testing.assert_array_equal(raw_accuracy.y, BATCH_LOG["accuracy"])
    # The validation markers exist only where an epoch had validation values.
    assert list(by_name["epoch validation"][0].y) == [0.25]


@pytest.mark.parametrize("rows, cols, h_space, v_space",
                         [(1, 2, 0.08, 0.3), (3, 3, 0.04, 0.08), (2, 1, 0.2, 0.1)])
def test_subplot_grid_places_panels_where_make_subplots_does(rows, cols, h_space, v_space):
    titles = [f"t{k}" for k in range(rows * cols)]
    theirs = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                           horizontal_spacing=h_space, vertical_spacing=v_space).layout
    ours = common.subplot_grid(rows, cols, titles, h_space, v_space)
    for k in range(1, rows * cols + 1):
        suffix = "" if k == 1 else str(k)
        for axis in ("xaxis", "yaxis"):
            np.testing.assert_allclose(ours[axis + suffix]["domain"],
                                       theirs[axis + suffix].domain, atol=1e-9)
            assert ours[axis + suffix]["anchor"] == theirs[axis + suffix].anchor
    for mine, plotlys in zip(ours["annotations"], theirs.annotations):
        assert mine["text"] == plotlys.text
        assert mine["x"] == pytest.approx(plotlys.x) and mine["y"] == pytest.approx(plotlys.y)
