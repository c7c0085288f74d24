"""Backpropagation by hand (playground/core/backprop.py) against tf.GradientTape and Keras' SGD,
over a hypothesis grid of sizes, kernels, strides, paddings, losses and values; and the
"Backprop by hand" page in English and Korean."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.core import backprop
from tests import reference

GRID = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = ("output", "grad_output", "grad_kernel", "grad_input", "new_kernel", "new_output")
SCALARS = ("loss", "grad_bias", "new_bias", "new_loss")


def _close(ours, theirs, name):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape, name
    scale = max(1.0, float(np.max(np.abs(theirs))) if theirs.size else 1.0)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-5 * scale, err_msg=name)


def _compare(x, kernel, bias, target, stride, padding, loss, lr):
    ours = backprop.backprop(x, kernel, bias, target, stride, padding, loss, lr)
    theirs = reference.conv_gradients(x, kernel, bias, ours.target, stride, padding, loss, lr)
    for name in FIELDS + SCALARS:
        _close(getattr(ours, name), theirs[name], name)
    return ours


@st.composite
def layers(draw):
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    padding = draw(st.sampled_from(backprop.PADDINGS))
    kh = draw(st.integers(1, h if padding == "valid" else 4))
    kw = draw(st.integers(1, w if padding == "valid" else 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    values = st.floats(-3, 3, allow_nan=False, width=32)
    x = np.array(draw(st.lists(values, min_size=h * w, max_size=h * w))).reshape(h, w)
    kernel = np.array(draw(st.lists(values, min_size=kh * kw, max_size=kw * kh))).reshape(kh, kw)
    out = backprop.forward(x, kernel, 0.0, stride, padding).shape
    target = np.array(draw(st.lists(values, min_size=out[0] * out[1],
                                    max_size=out[0] * out[1]))).reshape(out)
    return dict(x=x, kernel=kernel, bias=draw(values), target=target, stride=stride,
                padding=padding, loss=draw(st.sampled_from(backprop.LOSSES)),
                lr=draw(st.sampled_from([0.001, 0.01, 0.1])))


@GRID
@given(layers())
def test_every_number_equals_gradient_tape(layer):
    _compare(**layer)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_toy_example_3x3_kernel_2x2_each_stride_and_padding(stride, padding):
    x = np.arange(1, 10, dtype=float).reshape(3, 3)
    _compare(x, np.ones((2, 2)), 0.0, None, (stride, stride), padding, "sum", 0.01)


def test_toy_example_valid_literal_values():
    bp = backprop.backprop(np.arange(1, 10).reshape(3, 3), np.ones((2, 2)))
    np.testing.assert_array_equal(bp.output, [[12, 16], [24, 28]])   # the course's numbers
    assert bp.loss == 0.5 * (12 ** 2 + 16 ** 2 + 24 ** 2 + 28 ** 2)
    # ∂L/∂W[0, 0] pairs the top-left 2×2 of the input with ∂L/∂Y = Y.
    assert backprop.equation(backprop.kernel_grad_terms(bp, 0, 0), bp.grad_kernel[0, 0]) \
        == "1·12 + 2·16 + 4·24 + 5·28 = 280"


def test_stride_dilates_grad_output_and_leaves_unreached_cells_at_zero():
    # 5×5 VALID, 2×2 kernel, stride 2: Y is 2×2, windows reach rows/cols 0..3 only.
    bp = backprop.backprop(np.arange(25).reshape(5, 5), np.ones((2, 2)), stride=2)
    assert bp.grad_output_dilated.shape == (3, 3)
    assert bp.grad_output_dilated[1].tolist() == [0, 0, 0]
    assert bp.used == (4, 4)
    assert not bp.grad_input[4].any() and not bp.grad_input[:, 4].any()


def test_terms_sum_to_each_cell():
    bp = backprop.backprop(np.arange(16).reshape(4, 4) / 3, [[1, -2, 0.5], [0, 1, 2]], 0.3,
                           stride=(2, 1), padding="same", loss="mean")
    for i, j in np.ndindex(bp.grad_kernel.shape):
        assert sum(a * b for a, b in backprop.kernel_grad_terms(bp, i, j)) \
            == pytest.approx(bp.grad_kernel[i, j])
    for r, c in np.ndindex(bp.grad_padded.shape):
        assert sum(a * b for a, b in backprop.input_grad_terms(bp, r, c)) \
            == pytest.approx(bp.grad_padded[r, c])
    for r, c in np.ndindex(bp.output.shape):
        assert sum(a * b for a, b in backprop.forward_terms(bp, r, c)) + bp.bias \
            == pytest.approx(bp.output[r, c])


@pytest.mark.parametrize("kwargs, words", [
    (dict(x=np.ones((2, 2)), kernel=np.ones((3, 3))), "kernel"),
    (dict(x=np.ones((3, 3)), kernel=np.ones((2, 2)), target=np.ones((3, 3))), "target"),
    (dict(x=[[1, np.nan]], kernel=[[1]]), "finite"),
    (dict(x=np.ones((3, 3)), kernel=np.ones((2, 2)), padding="full"), "padding"),
    (dict(x=np.ones((3, 3)), kernel=np.ones((2, 2)), stride=0), "stride"),
])
def test_bad_layer_is_one_line_value_error(kwargs, words):
    with pytest.raises(ValueError) as info:
        backprop.backprop(**kwargs)
    assert "\n" not in str(info.value) and words in str(info.value)


def test_number_format():
    assert backprop.number(3.0) == "3"
    assert backprop.number(-0.25) == "−0.25"
    assert backprop.number(1e-9) == "0"
    assert backprop.number(1 / 3) == "0.3333"


def _page(query=None):
    from tests.helpers import app_test
    at = app_test("backprop", query=query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _titles(at):
    return [s.value for s in at.subheader]


def test_page_in_english_steps_through_the_toy_example():
    import json

    at = _page()
    assert at.title[0].value == "Backprop by hand"
    assert _titles(at)[0].startswith("1. Forward pass")
    # Step 3 (∂L/∂W), window at cell 1: the input cells 2, 3, 5, 6 times ∂L/∂Y = Y.
    at.slider(key="bp_grad_kernel").set_value(1).run()
    charts = at.get("plotly_chart")
    spec = json.loads(charts[2].proto.spec)
    assert spec["layout"]["title"]["text"] == "∂L/∂W[0, 1] = 2·12 + 3·16 + 5·24 + 6·28 = 360"
    assert [m.value for m in at.metric] == ["880", "238.0928"]


def test_page_stride_and_padding_change_it_and_a_bad_layer_is_one_line():
    import json

    at = _page({"example": "custom", "input_size": "5", "kernel_size": "3", "stride": "2",
                "padding": "same"})
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    # SAME, stride 2 on 5×5 with 3×3: padded 7×7 input, 3×3 output.
    assert [a["text"] for a in spec["layout"]["annotations"]][0].endswith("7×7")
    assert [a["text"] for a in spec["layout"]["annotations"]][2].endswith("3×3")
    at.radio(key="bp_padding").set_value("valid").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [a["text"] for a in spec["layout"]["annotations"]][0].endswith("5×5")
    assert [a["text"] for a in spec["layout"]["annotations"]][2].endswith("2×2")
    at.slider(key="bp_kernel_size").set_value(5).run()
    at.slider(key="bp_input_size").set_value(2).run()
    assert not at.exception and len(at.error) == 1 and "\n" not in at.error[0].value


def test_page_in_korean():
    at = _page({"lang": "ko"})
    assert at.title[0].value == "손으로 하는 역전파"
    assert _titles(at)[0].startswith("1. 순전파")
    assert [m.label for m in at.metric] == ["이전 손실", "`SGD` 한 걸음 뒤의 손실"]


@pytest.mark.parametrize("stride, padding", [(1, "valid"), (2, "same"), (3, "valid")])
def test_figures_pass_plotly_validation(stride, padding):
    import plotly.graph_objects as go

    from playground.backprop import lab
    from playground.backprop.settings import PROPS
    from playground.charts import backprop as charts

    settings = dict(PROPS.defaults(), example="custom", stride=stride, padding=padding)
    bp = lab.layer(settings)
    for build in (lab.forward_slide, lab.kernel_grad_slide, lab.input_grad_slide):
        go.Figure(charts.slide_figure(build(bp, 0), signed_grid=True).to_dict())  # validates
    go.Figure(charts.grids_figure([("W", bp.kernel), ("∂L/∂W", bp.grad_kernel)]).to_dict())
    # The ∂L/∂W window spans the dilated ∂L/∂Y: (H'−1)·stride + 1 cells.
    slide = lab.kernel_grad_slide(bp, 0)
    box = charts.slide_figure(slide).to_dict()["data"][6]
    assert max(box["x"]) - min(box["x"]) == (bp.output.shape[1] - 1) * stride + 1
