"""The Filter Lab page headless (AppTest): uploads, filters, shapes, bad files; no TensorFlow."""
from __future__ import annotations

import json

import pytest

from tests import corpus
from tests.helpers import ROOT, app_test

SAMPLE = ROOT / "sample_images" / "chelsea.png"


@pytest.fixture(scope="module")
def lab():
    at = app_test("filter_lab")
    assert not at.exception, [e.value for e in at.exception]
    return at


def _chart_titles(at) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec.get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def _title_with(at, prefix: str) -> str:
    matches = [t for t in _chart_titles(at) if t.startswith(prefix)]
    assert matches, (prefix, _chart_titles(at))
    return matches[0]


def test_page_opens_with_the_cat_and_the_course_edge_filter(lab):
    assert not lab.error
    response = _title_with(lab, "Response: Course edge 5×5 (vertical edges)")
    # The cat is 451×300; SAME padding stride 1 keeps the size.
    assert "300×451" in response
    assert "after max pooling" in " ".join(_chart_titles(lab)).lower()
    assert "150×225" in _title_with(lab, "After max pooling")


def test_upload_through_file_uploader_gives_the_response_shape():
    at = app_test("filter_lab")
    at.radio(key="fl_source").set_value("Upload").run()
    at.file_uploader(key="fl_upload").set_value(
        ("upload.png", corpus.png_rgb(120, 90), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    at.number_input(key="fl_stride").set_value(2).run()
    at.selectbox(key="fl_padding").set_value("valid").run()
    # 90×120 picture, 5×5 kernel, stride 2, VALID: floor((90-5)/2)+1 = 43, floor((120-5)/2)+1 = 58
    assert "43×58" in _title_with(at, "Response:")
    assert "21×29" in _title_with(at, "After max pooling")


@pytest.mark.parametrize("name", ["zero_bytes", "fake_heic", "svg", "png_truncated_half",
                                  "one_by_10000", "png_claiming_30000x30000"])
def test_bad_upload_shows_one_line_error_and_the_page_keeps_working(name):
    case = corpus.by_name(name)
    at = app_test("filter_lab")
    at.radio(key="fl_source").set_value("Upload").run()
    at.file_uploader(key="fl_upload").set_value((case.filename, case.data,
                                                 "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    messages = [e.value for e in at.error]
    assert len(messages) == 1 and case.message.lower() in messages[0].lower(), messages
    assert "\n" not in messages[0]
    # Still a working lab: the fallback picture is filtered.
    _title_with(at, "Response:")


def test_curve_detector_and_several_filters_make_a_stack(lab):
    at = app_test("filter_lab")
    at.button[0].click().run()  # "Course filters"
    assert not at.exception
    stack = _title_with(at, "All filters")
    assert "300×451×3" in stack
    assert "Course curve detector 7×7<br><sup>7×7</sup>" in _chart_titles(at)


def test_sobel_pair_shows_edge_magnitude():
    at = app_test("filter_lab")
    at.button[1].click().run()  # "Sobel x + y"
    assert not at.exception
    _title_with(at, "Edge magnitude")


def test_colour_mode_three_channel_filter_and_each_channel():
    at = app_test("filter_lab")
    at.selectbox(key="fl_colour").set_value("Each RGB channel on its own").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "300×451×3" in _title_with(at, "Response:")
    at.selectbox(key="fl_colour").set_value("RGB: one 3-channel filter (sums over channels)").run()
    assert not at.exception
    assert "<sup>300×451 · range" in _title_with(at, "Response:")


def test_picking_a_pixel_explains_its_sum():
    at = app_test("filter_lab")
    at.number_input(key="fl_row").set_value(10).run()
    at.number_input(key="fl_col").set_value(20).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Output (10, 20)" in text
    # The sum of the products and the response value are printed; they must agree.
    import re
    match = re.search(r"products = \*\*([-0-9.e+]+)\*\*; the response map holds ([-0-9.e+]+)\.",
                      text)
    assert match, text
    assert float(match.group(1)) == pytest.approx(float(match.group(2)), rel=1e-4, abs=1e-4)


def test_kernel_too_big_for_valid_padding_is_a_message_not_a_traceback():
    at = app_test("filter_lab")
    at.selectbox(key="fl_sample").set_value("Pattern: checkerboard").run()
    at.select_slider(key="fl_working").set_value(256).run()
    at.selectbox(key="fl_padding").set_value("valid").run()
    at.number_input(key="fl_stride").set_value(8).run()
    at.number_input(key="fl_pool_size").set_value(8).run()
    at.number_input(key="fl_pool_stride").set_value(8).run()
    assert not at.exception
    # 256 → conv 5 stride 8 VALID: 32 → pool 8/8: 4
    assert "4×4" in _title_with(at, "After max pooling")


def _lab_on_tab(tab: str):
    from streamlit.testing.v1 import AppTest

    from tests.helpers import APP
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["tab"] = tab
    at.run()
    at.switch_page(str(ROOT / "pages" / "filter_lab.py"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def toy():
    return _lab_on_tab("Toy tensors (course examples)")


@pytest.fixture(scope="module")
def mnist():
    return _lab_on_tab("MNIST digit")


def test_only_the_open_tab_runs(lab, toy):
    assert not any(t.startswith("VALID") for t in _chart_titles(lab))
    assert not any(t.startswith("Response:") for t in _chart_titles(toy))


def test_toy_tensors_tab_shows_the_course_results(toy):
    lab = toy
    titles = _chart_titles(lab)
    assert any(t.startswith("VALID") and "2×2" in t for t in titles)
    assert any(t.startswith("SAME") and "3×3" in t for t in titles)
    text = " ".join(m.value for m in lab.markdown)
    assert "w1 + 2·w2 + 4·w3 + 5·w4" in text


def test_new_random_filters_button_moves_the_seed():
    at = _lab_on_tab("MNIST digit")
    if at.warning:
        pytest.skip("MNIST not available: " + at.warning[0].value)
    before = at.number_input(key="fl_mnist_seed").value
    at.button(key="fl_mnist_new").click().run()
    assert not at.exception
    assert at.number_input(key="fl_mnist_seed").value == before + 1


def test_mnist_tab_gives_five_14x14_maps(mnist):
    if mnist.warning:
        pytest.skip("MNIST not available: " + mnist.warning[0].value)
    assert "14×14×5" in _title_with(mnist, "Feature maps")


def test_settings_come_from_and_go_to_the_url():
    from streamlit.testing.v1 import AppTest

    from tests.helpers import APP
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"filter": ["Sobel x (vertical edges)", "not a filter"],
                            "colour": "Green channel", "stride": "2", "pool": "avg",
                            "picture": "Pattern: stripes"})
    at.run()
    at.switch_page(str(ROOT / "pages" / "filter_lab.py"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="fl_filters").value == ["Sobel x (vertical edges)"]
    assert at.selectbox(key="fl_colour").value == "Green channel"
    assert "128×128" in _title_with(at, "Response: Sobel x")  # 256 px pattern, stride 2
    assert "after avg pooling" in _title_with(at, "After avg pooling").lower()
    at.number_input(key="fl_stride").set_value(1).run()
    assert at.query_params["stride"] == "1"


def test_custom_kernel_from_the_editor_is_used():
    at = app_test("filter_lab")
    at.selectbox(key="fl_custom_start").set_value("Sobel x (vertical edges)").run()
    at.multiselect(key="fl_filters").set_value(["Custom kernel", "Sobel x (vertical edges)"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    at.selectbox(key="fl_focus").set_value(0).run()
    custom = _title_with(at, "Response: Custom kernel")
    at.selectbox(key="fl_focus").set_value(1).run()
    sobel = _title_with(at, "Response: Sobel x")
    # Started from Sobel x, unedited: the same response, value range and all.
    assert custom.split("<br>")[1] == sobel.split("<br>")[1]


def test_the_custom_kernel_grid_is_drawn_once_the_kernel_is_used():
    at = app_test("filter_lab")
    assert not at.get("dataframe")
    before = at.multiselect(key="fl_filters").value
    assert before and "Custom kernel" not in before
    at.button(key="fl_custom_use").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="fl_filters").value == before + ["Custom kernel"]
    assert len(at.get("dataframe")) == 1


def _chart_z(at, prefix: str):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec.get("layout", {}).get("title", {})
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        if text.startswith(prefix):
            return spec["data"][0]["z"]
    raise AssertionError((prefix, _chart_titles(at)))


def _as_list(z):
    if isinstance(z, dict):  # plotly's typed-array encoding
        import base64

        import numpy as np
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        shape = z.get("shape")
        if isinstance(shape, str):
            shape = tuple(int(n) for n in shape.split(","))
        return (flat.reshape(shape) if shape else flat).tolist()
    return z


@pytest.mark.parametrize("example,expected", [
    ("4×4 [1..16], max 2×2 stride 2", [[6, 8], [14, 16]]),
    ("Mixed 4×4, max 2×2 stride 2", [[6, 8], [3, 4]]),
    ("[[4,3],[2,1]], SAME max 2×2 stride 1", [[4, 3], [2, 1]]),
    ("6×6 [1..36], 5×5 stride 4 VALID", [[29]]),
    ("6×6 [1..36], 5×5 stride 4 SAME", [[22, 24], [34, 36]]),
])
def test_toy_pooling_examples_show_the_course_results(example, expected):
    at = _lab_on_tab("Toy tensors (course examples)")
    at.selectbox(key="fl_toy_pool_example").set_value(example).run()
    assert not at.exception
    assert _as_list(_chart_z(at, "max pool")) == expected


def test_toy_convolutions_show_the_course_results(toy):
    assert _as_list(_chart_z(toy, "VALID")) == [[12, 16], [24, 28]]
    assert _as_list(_chart_z(toy, "SAME")) == [[12, 16, 9], [24, 28, 15], [15, 17, 9]]
    assert _as_list(_chart_z(toy, "Map 2")) == [[120, 160], [240, 280]]
    assert _as_list(_chart_z(toy, "Map 3")) == [[-12, -16], [-24, -28]]
