"""Model Inspector: pick a trained network, give it a digit, and follow the digit through it."""
import functools
import hashlib
import random
from pathlib import Path

import streamlit as st

from playground.charts import inspector as charts
from playground.core import network, runs
from playground.core.shapes import shape_text
from playground.inspector import loading, preprocess

HERE = Path(__file__).resolve().parent
SOURCES = ("Test digit", "Draw", "Upload a photo")
MODEL_SOURCES = ("A saved run", "Upload a .keras file")
CANVAS_PX = 280


@st.cache_resource(max_entries=6, show_spinner="Loading the model…")
def run_model(run_id: str, modified: float):
    """A saved run's model; ``modified`` (the file's mtime) reloads it after a new save."""
    return loading.load_run_model(run_id)


@st.cache_resource(max_entries=4, show_spinner="Loading the uploaded model…")
def uploaded_model(digest: str, _data: bytes):
    return loading.load_model_bytes(_data)


@st.cache_resource(show_spinner="Loading the MNIST test digits…")
def test_digits():
    from playground.datasets import mnist

    (_, _), (x_test, y_test) = mnist.load_mnist()
    return x_test, y_test


def run_label(run: dict) -> str:
    settings, status = run["settings"], run["status"]
    net = settings.get("preset") or ("custom network" if settings.get("spec") else "?")
    label = f"{run['run_id']} · {net}"
    if status.get("status"):
        label += f" · {status['status']}"
    accuracy = status.get("test_accuracy")
    if isinstance(accuracy, (int, float)):
        label += f" · test accuracy {100 * accuracy:.1f} %"
    return label


def pick_model():
    """The model to inspect and a short description of where it came from, or (None, None)."""
    source = st.radio("Model", MODEL_SOURCES, horizontal=True, key="model_source")
    if source == MODEL_SOURCES[0]:
        saved = runs.list_runs()
        if not saved:
            st.info("No saved run yet. Train one on the **Live Training** page (one epoch of "
                    "the course CNN takes about a minute), or upload a `.keras` file.")
            st.page_link(HERE / "training.py", label="Live Training", icon=":material/monitoring:")
            return None, None
        ids = [run["run_id"] for run in saved]
        wanted = st.query_params.get("run")
        index = ids.index(wanted) if wanted in ids else 0
        labels = {run["run_id"]: run_label(run) for run in saved}
        run_id = st.selectbox("Saved run", ids, index=index, format_func=labels.get,
                              key="run_id")
        st.query_params["run"] = run_id
        try:
            modified = loading.run_model_path(run_id).stat().st_mtime
            return run_model(run_id, modified), f"run {run_id}"
        except (loading.ModelError, OSError) as err:
            st.error(f"This run's model cannot be shown: {err}")
            return None, None
    upload = st.file_uploader(
        f"A Keras model saved with `model.save('name.keras')` (at most "
        f"{loading.MAX_MODEL_BYTES // 2**20} MB). Loaded in Keras' safe mode: no code from "
        "the file runs.", type=["keras"], key="model_upload")
    if upload is None:
        st.info("Upload a `.keras` file: a digit classifier with a 28×28×1 input and 10 outputs.")
        return None, None
    if upload.size > loading.MAX_MODEL_BYTES:
        st.error(f"The file is {upload.size / 2**20:.1f} MB; the limit is "
                 f"{loading.MAX_MODEL_BYTES // 2**20} MB.")
        return None, None
    payload = upload.getvalue()
    try:
        return (uploaded_model(hashlib.sha256(payload).hexdigest(), payload),
                "the uploaded model")
    except loading.ModelError as err:
        st.error(f"This model cannot be inspected: {err}")
        return None, None


def pick_digit():
    """(28×28 digit in [0, 1], true label or None), or (None, None) until there is a digit."""
    default = st.query_params.get("input", SOURCES[0])
    source = st.radio("Input", SOURCES, horizontal=True, key="input_source",
                      index=SOURCES.index(default) if default in SOURCES else 0)
    st.query_params["input"] = source
    if source == "Test digit":
        return test_digit()
    if source == "Draw":
        return drawn_digit()
    return photo_digit()


def random_digit():
    st.session_state["digit_index"] = random.randrange(10_000)


def test_digit():
    try:
        x_test, y_test = test_digits()
    except Exception as err:  # noqa: BLE001 - mnist.MnistUnavailable or a missing module
        st.error(f"The MNIST test digits are not available: {err}")
        return None, None
    if "digit_index" not in st.session_state:
        wanted = st.query_params.get("digit", "0")
        # isdecimal, not isdigit: "²" is a digit that int() cannot read.
        index = int(wanted) if wanted.isdecimal() else -1
        st.session_state["digit_index"] = index if 0 <= index < len(x_test) else 0
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    index = left.number_input("Test digit number", 0, len(x_test) - 1, step=1,
                              key="digit_index")
    right.button("Random digit", on_click=random_digit, icon=":material/casino:")
    st.query_params["digit"] = str(index)
    return preprocess.as_digit(x_test[int(index)]), int(y_test[int(index)])


def drawn_digit():
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as err:  # noqa: BLE001 - the component failed to register
        st.error(f"The drawing canvas is not available here ({type(err).__name__}); pick a "
                 "test digit or upload a photo instead.")
        return None, None
    left, right = st.columns(2)
    with left:
        st.caption("Draw one digit, large, in the middle (the bin icon clears the canvas).")
        result = st_canvas(stroke_width=20, stroke_color="#000000", background_color="#ffffff",
                           height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw",
                           return_image_data=True, key="canvas")
    drawing = result.image_data if result is not None else None
    if drawing is None:
        right.info("Draw a digit on the canvas.")
        return None, None
    try:
        digit = preprocess.preprocess_digit(drawing)
    except ValueError:
        right.info("Draw a digit on the canvas.")
        return None, None
    right.plotly_chart(charts.digit_figure(digit, "What the network sees (28×28, MNIST-style)"),
                       key="drawn_digit")
    return digit, None


def photo_digit():
    upload = st.file_uploader(
        f"A photo of one handwritten digit (PNG, JPEG, WebP, BMP or GIF; at most "
        f"{preprocess.MAX_PHOTO_BYTES // 2**20} MB)", type=["png", "jpg", "jpeg", "webp", "bmp",
                                                          "gif"], key="photo_upload")
    if upload is None:
        st.info("Upload a photo: dark ink on light paper or a light digit on a dark background.")
        return None, None
    try:
        photo = preprocess.decode_photo(upload.getvalue())
        digit = preprocess.preprocess_digit(photo)
    except ValueError as err:
        st.error(f"This picture cannot be used: {err}")
        return None, None
    left, right = st.columns(2)
    left.plotly_chart(charts.photo_figure(photo, "Your photo"), key="photo_original",
)
    right.plotly_chart(charts.digit_figure(digit, "Pre-processed like MNIST (28×28)"),
                       key="photo_digit")
    return digit, None


def remember_map(layer_name: str, chart_key: str, tiles: int, ncols: int,
                 tile_shape: tuple) -> None:
    """on_select of a feature-map mosaic: keep the clicked map's number for this layer."""
    points = st.session_state[chart_key].selection.points
    if not points:
        return
    point = points[0]
    index = point.get("customdata")
    if isinstance(index, list):
        index = index[0] if index else None
    if index is None:
        index = charts.tile_index(point.get("x", 0), point.get("y", 0), tile_shape, ncols, tiles)
    if index is not None:
        st.session_state.setdefault("selected_maps", {})[layer_name] = int(index)


def show_layer(model, number: int, name: str, output, previous) -> None:
    """One stage of the pipeline: the layer, its output, its filters, a clicked map large.

    ``previous``: (name, output) of the stage before, to show where a pooled map came from.
    """
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    label = preprocess.safe_name(name)
    st.markdown(f"**{number}. {label}** · {forward.layer_description(model, name)}")
    kind = preprocess.output_kind(output)
    if kind == "vector":
        st.plotly_chart(charts.vector_figure(output, f"{label}: {len(output)} values",
                                             labels=charts.class_labels(len(output))),
                        key=f"vector_{number}")
        return
    if kind != "maps":
        st.caption(f"Output of shape {shape_text(output.shape)} (not drawn).")
        return
    selected = st.session_state.get("selected_maps", {}).get(name)
    kernel = forward.conv_kernel(model, name)
    chart_key = f"maps_{number}"
    columns = st.columns(2) if kernel is not None else [st.container()]
    h, w, count = output.shape
    ncols = charts.grid_columns(count)
    height = charts.mosaic_height(count)
    with columns[0]:
        st.plotly_chart(
            charts.feature_maps_figure(output, f"{label}: {count} feature maps (click one)",
                                       height=height, selected=selected),
            key=chart_key, selection_mode="points",
            on_select=functools.partial(remember_map, name, chart_key, count, ncols, (h, w)))
    if kernel is not None:
        kh, kw, c, f = kernel.shape
        with columns[1]:
            st.plotly_chart(
                charts.filters_figure(kernel, title=f"its {f} filters, {kh}×{kw}×{c} each",
                                      height=height),
                key=f"filters_{number}")
            if c > 1:
                st.caption(f"Column j is filter j: its {c} slices, one per input channel "
                           "(row), each sliding over that channel of the layer's input.")
    if selected is None or selected >= count:
        return
    detail = forward.feature_map_detail(model, name, output, selected, previous)
    big_left, big_right = st.columns(2)
    big_left.plotly_chart(
        charts.feature_map_figure(detail["map"], f"feature map {selected} of {label} ({h}×{w})"),
        key=f"map_detail_{number}")
    if detail["kernel"] is not None:
        c, kh, kw = detail["kernel"].shape
        big_right.plotly_chart(
            charts.filter_detail_figure(detail["kernel"], detail["bias"],
                                        f"filter {selected}: {c} slice(s) of {kh}×{kw}"),
            key=f"filter_detail_{number}")
    elif detail["source"] is not None:
        source = detail["source"]
        big_right.plotly_chart(
            charts.feature_map_figure(
                source, f"… made from map {selected} of "
                        f"{preprocess.safe_name(detail['source_name'])} "
                        f"({shape_text(source.shape)})"),
            key=f"map_source_{number}")
    else:
        big_right.caption("This layer has no filter.")


@st.fragment
def show_pipeline(model, digit) -> None:
    """A fragment: clicking a feature map reruns only this part of the page."""
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    st.subheader("Through the network, layer by layer")
    st.caption("Each layer's output for this digit; between layers, the shape and the smallest "
               "and largest value that flow on. Click a feature map to see it and its filter "
               "large.")
    stages = forward.pipeline(model, digit)
    st.text(f"input  ⟶  {preprocess.describe_output(stages[0][1])}")
    for number, (previous, (name, output)) in enumerate(zip(stages, stages[1:]), start=1):
        with st.container(border=True):
            show_layer(model, number, name, output, previous)
        st.text(f"  ⬇  {preprocess.describe_output(output)}")


@st.fragment
def show_explanations(model, digit, predicted: int) -> None:
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    st.subheader("Which pixels mattered")
    target = st.selectbox("Explain the score of digit", list(range(10)), index=predicted,
                          key="explain_class",
                          format_func=lambda d: f"{d}" + (" (predicted)" if d == predicted
                                                          else ""))
    result = forward.explain(model, digit, target)
    columns = st.columns(3)
    columns[0].plotly_chart(charts.overlay_figure(digit, result["saliency"],
                                                  f"Saliency: |∂ score({target}) / ∂ pixel|"),
                            key="saliency")
    columns[0].caption("Bright where changing the pixel would change the class score most "
                       "(gradient of the pre-softmax score with respect to the input).")
    if result["grad_cam"] is None:
        columns[1].info("No Grad-CAM: the model has no conv layer it can be computed on.")
        return
    layer = preprocess.safe_name(result["grad_cam_layer"])
    columns[1].plotly_chart(charts.overlay_figure(digit, result["grad_cam"],
                                                  f"Grad-CAM on {layer}"), key="grad_cam")
    if float(result["grad_cam"].max()) == 0.0:
        columns[1].info(
            f"Grad-CAM is zero everywhere for digit {target}: averaged over each whole feature "
            "map, the gradients point against the score. Grad-CAM assumes the score pools the "
            "maps globally; behind a Flatten → Dense head position matters, and the average "
            "loses it. HiResCAM (right) keeps it.")
    else:
        columns[1].caption(f"The feature maps of {layer}, each weighted by the average "
                           f"gradient of the score of {target}, summed, ReLU, upsampled to "
                           "28×28 (Selvaraju et al. 2017).")
    columns[2].plotly_chart(charts.overlay_figure(digit, result["hires_cam"],
                                                  f"HiResCAM on {layer}"), key="hires_cam")
    columns[2].caption("Like Grad-CAM, but each position's activation is multiplied by the "
                       "gradient at that position (Draelos & Carin 2020): where the layer's "
                       f"features raised the score of {target}.")


def show_summary(model) -> None:
    st.subheader("Model summary")
    rows = network.model_summary(model)
    for row in rows:
        row["layer"] = preprocess.safe_name(row["layer"])
    st.dataframe(rows, hide_index=True, key="summary")
    total = int(model.count_params())
    if rows and "Shape Lab shape" in rows[0]:
        st.caption(f"{total:,} parameters. The Shape Lab columns are computed from the network "
                   "description alone (no TensorFlow) and agree with Keras.")
    else:
        st.caption(f"{total:,} parameters. This model has layers the Shape Lab does not "
                   "describe, so only Keras' numbers are shown.")


st.title("Model Inspector")
st.caption("Take a trained network, give it one digit, and look inside: every layer's output, "
           "its filters, the probabilities, and which pixels decided.")

model, origin = pick_model()
if model is not None:
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    digit, true_label = pick_digit()
    if digit is not None:
        probabilities = forward.predict(model, digit)
        predicted = preprocess.top_class(probabilities)
        left, right = st.columns([1, 2])
        left.plotly_chart(charts.digit_figure(digit, "Input (28×28×1)"), key="input_digit",
)
        right.plotly_chart(charts.probabilities_figure(probabilities, true_label),
                           key="probabilities")
        show_pipeline(model, digit)
        show_explanations(model, digit, predicted)
    show_summary(model)
