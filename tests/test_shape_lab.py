"""The Shape Lab's logic (shape_lab.lab, shape_lab.settings, charts.shape_lab) without a page.

The sliding window's numbers are compared with TensorFlow (tf.nn.conv2d with dilations,
tf.nn.max_pool2d, tf.nn.avg_pool2d); the course's worked example is checked literally.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from playground.charts.shape_lab import window_figure
from playground.core import network
from playground.shape_lab import lab
from playground.shape_lab import settings as shape_settings
from tests import reference

tf = pytest.importorskip("tensorflow")


def settings(**changes):
    s = shape_settings.defaults()
    s.update(changes)
    return s


# --- the course's sliding-window example ------------------------------------------------------
def test_default_is_the_course_3x3_image_and_2x2_ones_kernel_valid():
    s = settings()
    report = lab.layer_report(s)
    win = lab.window(s, report, 0)
    assert report.output_shape == (2, 2, 1)
    assert win.output.tolist() == [[12, 16], [24, 28]]
    assert win.equation == "1×1 + 2×1 + 4×1 + 5×1 = 12"
    assert lab.window(s, report, 3).equation == "5×1 + 6×1 + 8×1 + 9×1 = 28"


def test_course_example_same_pads_bottom_right():
    s = settings(padding="same")
    report = lab.layer_report(s)
    win = lab.window(s, report, 8)
    assert win.output.tolist() == [[12, 16, 9], [24, 28, 15], [15, 17, 9]]
    assert (report.axes[0].pad_before, report.axes[0].pad_after) == (0, 1)
    assert win.is_pad[-1].all() and win.is_pad[:, -1].all() and not win.is_pad[0, 0]
    assert win.equation == "9×1 + 0×1 + 0×1 + 0×1 = 9"
    assert "0 before, 1 after" in report.formulas[0]


WINDOW_CASES = [
    dict(h=5, w=7, kh=3, kw=2, sh=2, sw=1, padding="same"),
    dict(h=6, w=6, kh=3, kw=3, sh=1, sw=1, dilation=2, padding="valid"),
    dict(h=7, w=5, kh=2, kw=3, sh=1, sw=1, dilation=3, padding="same"),
    dict(h=8, w=9, kh=4, kw=4, sh=3, sw=2, padding="explicit", pad=1),
    dict(h=4, w=4, kh=1, kw=1, sh=3, sw=3, padding="valid"),
    dict(h=9, w=6, kh=3, kw=3, sh=1, sw=1, dilation=2, padding="explicit", pad=2),
    dict(h=12, w=12, kh=5, kw=5, sh=2, sw=2, padding="same"),
]


@pytest.mark.parametrize("case", WINDOW_CASES)
@pytest.mark.parametrize("image, weights", [("counting", "ones"), ("random", "random")])
def test_window_convolution_equals_tensorflow(case, image, weights):
    s = settings(image=image, weights=weights, **case)
    report = lab.layer_report(s)
    x = lab.demo_image(s)[None, :, :, None]
    k = lab.demo_kernel(s)[:, :, None, None]
    d = s["dilation"]
    expected = tf.nn.conv2d(x, k, [1, s["sh"], s["sw"], 1], reference.tf_padding(report.padding),
                            dilations=[1, d, d, 1]).numpy()[0, :, :, 0]
    last = report.output_shape[0] * report.output_shape[1] - 1
    for pos in (0, last // 2, last):
        win = lab.window(s, report, pos)
        np.testing.assert_allclose(win.output, expected, atol=1e-4)
        assert win.value == pytest.approx(float(expected[win.row, win.col]), abs=1e-4)
        assert win.equation.endswith(f"= {lab._num(win.value)}")
        # The window reads kh*kw cells, d apart, starting at (row*sh, col*sw) of the padded input.
        assert len(win.taps) == s["kh"] * s["kw"]
        assert win.taps[0] == (win.row * s["sh"], win.col * s["sw"])
        assert win.taps[-1] == (win.top + (s["kh"] - 1) * d, win.left + (s["kw"] - 1) * d)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", [dict(h=5, w=7, kh=2, kw=3, sh=2, sw=2, padding="same"),
                                  dict(h=6, w=4, kh=3, kw=3, sh=1, sw=2, padding="valid"),
                                  dict(h=7, w=7, kh=3, kw=3, sh=3, sw=3, padding="same")])
def test_window_pooling_equals_tensorflow(kind, case):
    s = settings(kind=kind, image="random", **case)
    report = lab.layer_report(s)
    x = lab.demo_image(s)[None, :, :, None]
    op = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    expected = op(x, [1, s["kh"], s["kw"], 1], [1, s["sh"], s["sw"], 1],
                  s["padding"].upper()).numpy()[0, :, :, 0]
    last = report.output_shape[0] * report.output_shape[1] - 1
    win = lab.window(s, report, last)
    np.testing.assert_allclose(win.output, expected, rtol=1e-6)
    assert win.value == pytest.approx(float(expected[-1, -1]))
    if kind == "max":
        assert win.equation.startswith("max(")


def test_average_pool_ignores_padding_in_the_equation():
    s = settings(kind="avg", h=3, w=3, kh=2, kw=2, sh=2, sw=2, padding="same")
    win = lab.window(s, lab.layer_report(s), 3)
    assert win.equation == "(9) / 1 = 9 (the 3 padded cells are ignored)"


def test_window_position_is_clamped_to_the_output():
    s = settings()
    report = lab.layer_report(s)
    assert (lab.window(s, report, 99).row, lab.window(s, report, 99).col) == (1, 1)
    assert (lab.window(s, report, -5).row, lab.window(s, report, -5).col) == (0, 0)


# --- the one-layer report -----------------------------------------------------------------------
def test_lecture_params_text():
    report = lab.layer_report(settings(h=32, w=32, c=3, kh=5, kw=5, filters=6))
    assert report.output_shape == (28, 28, 6)
    assert report.params_text == "5×5×3×6 = 450 weights + 6 biases = 456 parameters"
    assert report.params == 456


def test_formula_substitutes_the_numbers():
    report = lab.layer_report(settings(h=7, w=7, kh=3, kw=3, sh=2, sw=2))
    assert "(7 − 3 + 2·0) / 2 + 1 = 4 / 2 + 1 = 3" in report.formulas[0]
    report = lab.layer_report(settings(h=32, w=32, kh=5, kw=5, padding="explicit", pad=2))
    assert "(32 − 5 + 2·2) / 1 + 1 = 31 / 1 + 1 = 32" in report.formulas[1]


def test_non_divisible_stride_says_which_row_is_unused():
    report = lab.layer_report(settings(h=7, w=7, kh=3, kw=3, sh=3, sw=3))
    assert "⌊4 / 3⌋ + 1 = 2" in report.formulas[0]
    assert len(report.fit) == 2
    assert "row 6" in report.fit[0] and "column 6" in report.fit[1]
    assert "remainder 1" in report.fit[0]


def test_fitting_layer_has_no_fit_messages():
    assert lab.layer_report(settings(h=7, w=7, kh=3, kw=3, sh=2, sw=2)).fit == []


def test_dilation_formula_shows_the_effective_kernel():
    report = lab.layer_report(settings(h=7, w=7, kh=3, kw=3, dilation=2))
    assert "(3 − 1)·2 + 1 = 5" in report.formulas[0]
    assert report.output_shape == (3, 3, 1)


def test_pooling_has_no_parameters_and_ignores_dilation():
    report = lab.layer_report(settings(kind="max", h=4, w=4, c=8, filters=5, dilation=3))
    assert report.output_shape == (3, 3, 8)
    assert report.params == 0 and "no weights" in report.params_text
    assert report.notes


@pytest.mark.parametrize("changes, name", [
    (dict(sh=0), "strides[0]"), (dict(sw=-1), "strides[1]"), (dict(h=0), "input_shape[0]"),
    (dict(kh=9), "kernel_size[0]"), (dict(h=5, w=5, kh=3, kw=3, dilation=3), "dilation"),
    (dict(filters=0), "filters"), (dict(padding="explicit", pad=-1), "padding"),
    (dict(kind="max", padding="explicit", pad=2), "padding"),
])
def test_impossible_layer_raises_value_error_naming_the_setting(changes, name):
    with pytest.raises(ValueError) as err:
        lab.layer_report(settings(**changes))
    assert str(err.value).startswith(name), str(err.value)


@pytest.mark.parametrize("changes, message", [
    (dict(sh=0), "Stride (rows) must be >= 1, got 0."),
    (dict(c=0), "Channels C must be >= 1, got 0."),
    (dict(kind="avg", kw=5), "Pool width: pool window 5 is larger than the padded input 3."),
    (dict(kw=5), "Kernel width: kernel 5 is larger than the padded input 3."),
    (dict(padding="explicit", pad=-2), "Padding must be 'valid', 'same' or an int >= 0, got -2."),
])
def test_explain_names_the_page_input(changes, message):
    with pytest.raises(ValueError) as err:
        lab.layer_report(settings(**changes))
    assert lab.explain(err.value) == message


# --- state: the URL round trip --------------------------------------------------------------------
def test_defaults_make_an_empty_query():
    assert shape_settings.to_query(shape_settings.defaults()) == {}


def test_query_round_trip_keeps_every_setting():
    custom = settings(h=28, w=20, c=3, kind="avg", kh=3, kw=2, sh=2, sw=1, padding="explicit",
                      pad=1, image="random", weights="random", pos=5,
                      preset="Keras Sequential CNN")
    query = shape_settings.to_query(custom)
    assert all(isinstance(v, str) for v in query.values())
    again, messages = shape_settings.from_query(query)
    assert messages == []
    assert again == custom


def test_bad_query_values_keep_their_default_with_a_message():
    again, messages = shape_settings.from_query({"h": "abc", "kind": "conv3d", "sh": "2",
                                                 "zzz": "1", "net": "{oops",
                                                 "preset": "No such net"})
    assert again["h"] == 3 and again["kind"] == "conv" and again["sh"] == 2
    assert again["net"] == "" and again["preset"] == shape_settings.DEFAULT_PRESET
    assert len(messages) == 4
    assert any(m.startswith("Ignored the link's h") for m in messages)


def test_query_choices_are_case_insensitive_and_lists_take_the_last_value():
    again, messages = shape_settings.from_query({"padding": "SAME", "w": ["4", "9"]})
    assert (again["padding"], again["w"], messages) == ("same", 9, [])


def test_impossible_numbers_survive_the_url_so_the_page_can_explain_them():
    again, messages = shape_settings.from_query({"sh": "0", "h": "-4"})
    assert (again["sh"], again["h"], messages) == (0, -4, [])
    assert shape_settings.from_query({"h": "10000000"})[1]


def test_custom_network_travels_as_json():
    spec = network.preset("ConvNetJS MNIST demo")
    spec["layers"][0]["filters"] = 4
    query = shape_settings.to_query(settings(net=network.to_json(spec)))
    again, messages = shape_settings.from_query(query)
    assert messages == []
    assert network.layer_rows(shape_settings.network_spec(again)) == network.layer_rows(spec)
    assert shape_settings.network_spec(settings()) == network.preset(shape_settings.DEFAULT_PRESET)


# --- the network editor's rows --------------------------------------------------------------------
@pytest.mark.parametrize("name", list(network.PRESETS))
def test_editor_rows_round_trip_every_preset(name):
    spec = network.PRESETS[name]
    again = lab.rows_to_spec(spec["input_shape"], lab.spec_to_rows(spec))
    assert network.validate(again)["layers"] == network.validate(spec)["layers"]
    # and through the URL's JSON, as the page stores an edited table
    assert network.layer_rows(json.loads(network.to_json(again))) == network.layer_rows(spec)


@pytest.mark.parametrize("name", list(network.PRESETS))
def test_compact_spec_is_lossless_and_shorter(name):
    spec = lab.rows_to_spec(network.PRESETS[name]["input_shape"],
                            lab.spec_to_rows(network.PRESETS[name]))
    compact = lab.compact_spec(spec)
    assert network.validate(compact) == network.validate(spec)
    assert len(network.to_json(compact)) < len(network.to_json(spec))
    # and the page's path back: link -> editor rows -> spec
    again = lab.rows_to_spec(compact["input_shape"], lab.spec_to_rows(compact))
    assert network.validate(again) == network.validate(spec)
    assert lab.compact_spec(again) == compact


def test_compact_spec_keeps_a_removed_activation():
    spec = {"input_shape": [8, 8, 1], "layers": [{"type": "Conv2D", "filters": 32,
                                                  "activation": None}]}
    compact = lab.compact_spec(spec)
    assert compact["layers"][0] == {"type": "Conv2D", "activation": None}
    assert network.validate(compact)["layers"][0]["activation"] is None


def test_editor_rows_parse_pairs_blanks_and_floats():
    rows = [{"type": "Conv2D", "filters": 8.0, "size": "3x5", "stride": "2×1", "padding": "1",
             "dilation": "", "activation": "none", "units": float("nan"), "rate": None},
            {"type": "MaxPool2D", "size": "2", "stride": "", "padding": "same"},
            {"type": None}, {"type": "Dense", "units": 10.0, "activation": "softmax"}]
    spec = lab.rows_to_spec([28, 28, 1], rows)
    assert spec["layers"][0] == {"type": "Conv2D", "filters": 8, "kernel_size": [3, 5],
                                 "strides": [2, 1], "padding": 1, "activation": None}
    assert spec["layers"][1] == {"type": "MaxPool2D", "pool_size": 2, "padding": "same"}
    assert len(spec["layers"]) == 3
    table, total, problem = lab.network_table(spec)
    assert problem is None
    assert table[1]["output shape"] == "14 × 26 × 8"
    assert total == network.total_params(spec)


def test_network_table_reports_the_first_bad_row():
    rows = [{"type": "Conv2D", "filters": 4, "size": "3y", "stride": "1", "padding": "same"},
            {"type": "Flatten"}]
    table, total, problem = lab.network_table(lab.rows_to_spec([8, 8, 1], rows))
    assert problem.startswith("Layer 1 (Conv2D): kernel_size")
    assert table[1]["output shape"] == "—" and table[1]["settings"].startswith("⚠")
    assert table[2]["settings"] == "⚠ follows a layer that does not fit"


def test_keras_sequential_total_in_the_table():
    assert lab.network_table(network.PRESETS["Keras Sequential CNN"])[1] == 619_786


# --- the figure ---------------------------------------------------------------------------
def _figure(**changes):
    s = settings(**changes)
    report = lab.layer_report(s)
    win = lab.window(s, report, s["pos"])
    return win, window_figure(win).to_dict()


def _array(value) -> np.ndarray:
    """plotly's to_dict keeps numpy arrays as {'dtype', 'bdata' (base64), 'shape'}."""
    if isinstance(value, dict):
        shape = tuple(int(v) for v in value["shape"].split(","))
        return np.frombuffer(base64.b64decode(value["bdata"]), value["dtype"]).reshape(shape)
    return np.asarray(value, dtype=float)


def test_figure_marks_padding_cells_and_shows_numbers():
    win, fig = _figure(padding="same")
    pad_layer = _array(fig["data"][1]["z"])
    np.testing.assert_array_equal(_array(fig["data"][2]["z"]), win.output)
    assert np.isfinite(pad_layer).sum() == win.is_pad.sum() == 4 * 4 - 3 * 3
    assert fig["data"][0]["text"][0] == ["1", "2", "3", ""]
    assert fig["data"][1]["text"][0] == ["", "", "", "0"] and fig["data"][1]["text"][3] == ["0"] * 4
    assert fig["data"][2]["text"] == [["12", "16", "9"], ["24", "28", "15"], ["15", "17", "9"]]
    assert "bottom 1" in fig["layout"]["annotations"][0]["text"]


def test_figure_animates_every_output_cell():
    _, fig = _figure(h=4, w=5)
    assert len(fig["frames"]) == 3 * 4
    assert fig["frames"][5]["layout"]["title"]["text"].startswith("output row 1, column 1")
    assert fig["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"


def test_figure_shades_unused_rows_and_columns():
    _, fig = _figure(h=7, w=8, kh=3, kw=3, sh=3, sw=3)
    shaded = fig["layout"]["shapes"]
    assert len(shaded) == 2
    assert shaded[0]["y0"] == 5.5 and shaded[1]["x0"] == 5.5  # row 6 and columns 6-7 unused


def test_large_inputs_have_no_numbers_in_cells():
    win, fig = _figure(h=20, w=20, kh=3, kw=3, sh=2, sw=2)
    assert not win.numbered
    assert fig["data"][0].get("text") is None


@pytest.mark.parametrize("changes", [{}, dict(padding="same", h=5, w=6), dict(kind="max"),
                                     dict(h=9, w=9, kh=3, kw=3, dilation=2, sh=1, sw=1),
                                     dict(h=30, w=30, kh=4, kw=4, sh=3, sw=3)])
def test_figure_spec_is_valid_plotly(changes):
    """The page skips plotly's validation for speed, so validate every kind of figure here."""
    import plotly.graph_objects as go

    _, fig = _figure(**changes)
    checked = go.Figure(fig)  # raises ValueError on any invalid property
    assert len(checked.data) == 6
