"""AppTest smoke tests of pages/shape_lab.py: inputs change the shown shape, impossible settings
give a one-line message (never an exception), the link carries the settings, and the page does
not import TensorFlow."""
from __future__ import annotations

import json

import pytest

from playground.core import network
from playground.shape_lab import lab
from tests.helpers import APP, ROOT, app_test

PAGE = ROOT / "pages" / "shape_lab.py"


def _metric(at, label_start: str) -> str:
    (metric,) = [m for m in at.metric if m.label.startswith(label_start)]
    return metric.value


def _number(at, key):
    (widget,) = [w for w in at.number_input if w.key == key]
    return widget


def _query(at, key):
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def _chart_spec(at) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def _opened_with(query: dict):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.switch_page(str(PAGE))
    at.run()
    return at


@pytest.fixture
def at():
    at = app_test("shape_lab")
    assert not at.exception
    return at


def test_default_page_shows_the_course_example(at):
    assert _metric(at, "Output shape") == "2 × 2 × 1"
    assert not at.error
    texts = " ".join(m.value for m in at.markdown)
    assert "1×1 + 2×1 + 4×1 + 5×1 = 12" in texts
    assert "2×2×1×1 = 4 weights + 1 bias = 5 parameters" in texts
    spec = _chart_spec(at)
    assert spec["data"][2]["text"] == [["12", "16"], ["24", "28"]]
    assert _metric(at, "Total parameters") == "50,186"


def test_changing_inputs_updates_the_output_shape(at):
    _number(at, "sl_h").set_value(32)
    _number(at, "sl_w").set_value(32)
    _number(at, "sl_c").set_value(3)
    _number(at, "sl_kh").set_value(5)
    _number(at, "sl_kw").set_value(5)
    _number(at, "sl_filters").set_value(6)
    at.run()
    assert not at.exception
    assert _metric(at, "Output shape") == "28 × 28 × 6"
    assert any("5×5×3×6 = 450 weights + 6 biases = 456" in m.value for m in at.markdown)


def test_same_padding_shows_the_course_output_and_padding_per_side(at):
    at.radio(key="sl_padding").set_value("same").run()
    assert _metric(at, "Output shape") == "3 × 3 × 1"
    assert _chart_spec(at)["data"][2]["text"] == [["12", "16", "9"], ["24", "28", "15"],
                                                  ["15", "17", "9"]]
    assert any("0 before, 1 after" in m.value for m in at.markdown)


def test_window_slider_moves_the_explained_cell(at):
    at.slider(key="sl_pos").set_value(3).run()
    assert any("row 1, column 1" in m.value and "5×1 + 6×1 + 8×1 + 9×1 = 28" in m.value
               for m in at.markdown)


def test_stride_that_does_not_fit_is_explained(at):
    for key, value in (("sl_h", 7), ("sl_w", 7), ("sl_kh", 3), ("sl_kw", 3), ("sl_sh", 3),
                       ("sl_sw", 3)):
        _number(at, key).set_value(value)
    at.run()
    assert _metric(at, "Output shape") == "2 × 2 × 1"
    warnings = [w.value for w in at.warning]
    assert any("row 6" in w and "never used" in w for w in warnings)


@pytest.mark.parametrize("key, value, word", [
    ("sl_sh", 0, "Stride (rows) must be >= 1, got 0"),
    ("sl_h", -3, "Input height H must be >= 1, got -3"),
    ("sl_kw", 9, "Kernel width: kernel 9 is larger than the padded input 3"),
    ("sl_dilation", 4, "Dilation D: kernel 2 dilated by 4 spans 5"),
    ("sl_filters", 0, "Filters must be >= 1, got 0")])
def test_impossible_setting_gives_one_line_message_not_exception(at, key, value, word):
    _number(at, key).set_value(value).run()
    assert not at.exception
    (error,) = at.error
    assert word in error.value and "\n" not in error.value
    # the rest of the page keeps working
    assert _metric(at, "Total parameters") == "50,186"


def test_pooling_keeps_channels_and_has_no_parameters(at):
    _number(at, "sl_c").set_value(16)
    at.radio(key="sl_kind").set_value("max").run()
    assert _metric(at, "Output shape") == "2 × 2 × 16"
    assert any("0 parameters" in m.value for m in at.markdown)


def test_preset_switch_updates_the_network_table(at):
    at.selectbox(key="sl_preset").set_value("Keras Sequential CNN").run()
    assert not at.exception
    assert _metric(at, "Total parameters") == "619,786"
    assert _query(at, "preset") == "Keras Sequential CNN"
    assert not at.get("code")  # the Keras code is drawn only while its expander is open
    at.session_state["sl_keras_code"] = True
    at.run()
    code = at.get("code")[0].value
    assert "layers.Dense(units=256, activation=\"relu\")" in code


def test_network_input_shape_change_flows_through_the_table(at):
    _number(at, "sl_in_h").set_value(32)
    _number(at, "sl_in_w").set_value(32)
    at.run()
    # 32 -> 16 -> 8: flatten 8*8*64 = 4096, dense 4096*10 + 10
    assert _metric(at, "Total parameters") == f"{320 + 18496 + 40970:,}"
    assert "net" in at.query_params


def test_reset_button_restores_the_preset(at):
    _number(at, "sl_in_h").set_value(32).run()
    assert _metric(at, "Total parameters") != "50,186"
    at.button(key="sl_reset").click().run()
    assert not at.exception
    assert _metric(at, "Total parameters") == "50,186"
    assert _number(at, "sl_in_h").value == 28
    assert "net" not in at.query_params


def test_settings_are_written_to_the_url(at):
    _number(at, "sl_h").set_value(9)
    at.radio(key="sl_padding").set_value("same").run()
    assert _query(at, "h") == "9" and _query(at, "padding") == "same"


def test_link_reopens_the_same_configuration():
    spec = network.preset("ConvNetJS MNIST demo")
    spec["layers"][0]["filters"] = 4
    at = _opened_with({"h": "7", "w": "7", "kh": "3", "kw": "3", "sh": "2", "sw": "2",
                       "padding": "same", "net": network.to_json(lab.compact_spec(spec))})
    assert not at.exception
    assert _metric(at, "Output shape") == "4 × 4 × 1"
    assert _metric(at, "Total parameters") == f"{network.total_params(spec):,}"
    assert _number(at, "sl_h").value == 7


def test_bad_link_values_are_reported_and_ignored():
    at = _opened_with({"h": "seven", "net": "{not json"})
    assert not at.exception
    assert _metric(at, "Output shape") == "2 × 2 × 1"
    messages = " ".join(w.value for w in at.warning)
    assert "Ignored the link's h" in messages and "Ignored the link's net" in messages


def test_link_to_a_network_with_a_bad_layer_shows_the_problem():
    spec = {"input_shape": [8, 8, 1], "layers": [{"type": "Conv2D", "filters": 2,
                                                  "kernel_size": 9, "padding": "valid"}]}
    at = _opened_with({"net": json.dumps(spec)})
    assert not at.exception
    assert any(w.value.startswith("Layer 1 (Conv2D): kernel_size") for w in at.warning)


def test_train_this_network_links_to_live_training_with_the_table_as_spec():
    from urllib.parse import parse_qs, urlparse

    from playground.core import network

    at = app_test("shape_lab")
    assert not at.exception
    links = [el for el in at.get("link_button") if "Train this network" in el.proto.label]
    assert len(links) == 1
    url = urlparse(links[0].proto.url)
    assert url.path == "training"
    spec = network.from_json(parse_qs(url.query)["spec"][0])
    assert network.total_params(spec) == network.total_params(
        network.PRESETS["Course CNN (2 conv)"])
