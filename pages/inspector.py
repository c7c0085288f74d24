"""Model Inspector: pick a trained image classifier, give it a picture, and follow the picture
through it."""
import functools
import hashlib
import random
from pathlib import Path
from typing import NamedTuple, Optional

import streamlit as st

from playground.charts import inspector as charts
from playground.core import network, runs
from playground.core.shapes import shape_text
from playground.datasets import DatasetUnavailable, dataset_entry, dataset_names
from playground.i18n import N_, _, link_query
from playground.inspector import data, loading, preprocess, pretrained
from playground.shape_lab.lab import describe_text  # the Shape Lab's layer words, translated
from playground.training import texts

HERE = Path(__file__).resolve().parent
# Radio options (kept in the address as they are, shown through _).
TEST, DRAW, PHOTO = N_("Test picture"), N_("Draw"), N_("Upload a photo")
TEST_DIGIT = N_("Test digit")          # the test source's name for a digit model
MODEL_SOURCES = (N_("A saved run"), N_("Upload a .keras or .h5 file"))
PRETRAINED = N_("The pretrained MNIST model")   # shown first when there is no saved run
PHOTO_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
CANVAS_PX = 280


class Inspected(NamedTuple):
    """The model on the page and what is known about it."""

    model: object                   # keras.Model (TensorFlow is imported only once loaded)
    origin: str                     # "run 2026…" or "the uploaded model"
    run_id: Optional[str]
    dataset: str                    # registered set or "pictures" whose test pictures fit, or ""
    class_names: tuple              # one per output
    input_shape: tuple              # (H, W, C)

    @property
    def digits(self) -> bool:
        """A 28×28×1 model of the digits 0..9: MNIST's recipe and the digit words apply."""
        return data.is_digit_model(self.input_shape, self.class_names)


@st.cache_resource(max_entries=6, show_spinner=False)
def run_model(run_id: str, modified: float):
    """A saved run's model; ``modified`` (the file's mtime) reloads it after a new save."""
    return loading.load_run_model(run_id)


@st.cache_resource(max_entries=4, show_spinner=False)
def uploaded_model(digest: str, filename: str, _data: bytes):
    return loading.load_model_bytes(_data, filename)


@st.cache_resource(max_entries=4, show_spinner=False)
def held_out(name: str, run_id: Optional[str], modified: float):
    """(x_test, y_test) uint8 of a registered data set or of a run's own pictures."""
    return data.held_out_pictures(name, run_id)


def run_label(run: dict) -> str:
    settings, status = run["settings"], run["status"]
    preset = settings.get("preset")
    net = _(preset) if preset else (_("custom network") if settings.get("spec") else "?")
    label = f"{run['run_id']} · {net}"
    if settings.get("dataset") and settings["dataset"] != "mnist":
        label += f" · {settings['dataset']}"
    if status.get("status"):
        label += f" · {texts.status_word(status['status'])}"
    accuracy = status.get("test_accuracy")
    if isinstance(accuracy, (int, float)):
        label += " · " + _("test accuracy {percent} %", percent=f"{100 * accuracy:.1f}")
    return label


def outputs_of(model) -> int:
    return int(model.outputs[0].shape[-1])


def input_of(model) -> tuple:
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def pick_run() -> Optional[Inspected]:
    saved = runs.list_runs()
    if not saved:
        st.info(_("No saved run yet. Train one on the **Live Training** page (one epoch of "
                  "the course CNN takes about a minute), or upload a `.keras` or `.h5` file."))
        st.page_link(HERE / "training.py", label=_("Live Training"),
                     icon=":material/monitoring:", query_params=link_query())
        return None
    ids = [run["run_id"] for run in saved]
    wanted = st.query_params.get("run")
    index = ids.index(wanted) if wanted in ids else 0
    labels = {run["run_id"]: run_label(run) for run in saved}
    run_id = st.selectbox(_("Saved run"), ids, index=index, format_func=labels.get,
                          key="run_id")
    st.query_params["run"] = run_id
    try:
        modified = loading.run_model_path(run_id).stat().st_mtime
        with st.spinner(_("Loading the model…")):
            model = run_model(run_id, modified)
    except (loading.ModelError, OSError) as err:
        st.error(_("This run's model cannot be shown: {problem}", problem=err))
        return None
    info = data.run_data(run_id)
    names = info.class_names
    if len(names) != outputs_of(model):   # a damaged dataset.json: numbers, not wrong words
        names = data.default_class_names(outputs_of(model))
    if info.title:   # from a file: cleaned, and no "_" or "*" left to start Markdown emphasis
        title = _(data.clean_class_name(info.title, 0).replace("_", " "))
        st.caption(_("Trained on {title}: {count} classes, pictures of {shape}.", title=title,
                     count=len(names), shape=shape_text(info.input_shape)))
    fits = tuple(info.input_shape) == input_of(model)
    return Inspected(model, f"run {run_id}", run_id, info.name if fits else "", tuple(names),
                     input_of(model))


def pick_upload() -> Optional[Inspected]:
    upload = st.file_uploader(
        _("A Keras model saved with `model.save('name.keras')` or `model.save('name.h5')` (at "
          "most {megabytes} MB). Its description is checked first and it is loaded in Keras' "
          "safe mode: no code from the file runs.",
          megabytes=loading.MAX_MODEL_BYTES // 2**20),
        type=["keras", "h5", "hdf5"], key="model_upload")
    if upload is None:
        st.info(_("Upload a `.keras` or `.h5` file: an image classifier with one H×W×1 or "
                  "H×W×3 picture input and one output per class."))
        return None
    if upload.size > loading.MAX_MODEL_BYTES:
        st.error(_("The file is {size} MB; the limit is {limit} MB.",
                   size=f"{upload.size / 2**20:.1f}", limit=loading.MAX_MODEL_BYTES // 2**20))
        return None
    payload = upload.getvalue()
    try:
        kind = loading.file_format(upload.name)
        with st.spinner(_("Loading the uploaded model…")):
            model = uploaded_model(hashlib.sha256(payload).hexdigest(), "model." + kind,
                                   payload)
    except loading.ModelError as err:
        st.error(_("This model cannot be inspected: {problem}", problem=err))
        return None
    count = outputs_of(model)
    labels = st.file_uploader(
        _("Class names (optional): a `.txt` file with one name a line, {count} lines, as "
          "`labels.txt` beside a model", count=count), type=["txt"], key="labels_upload")
    names = data.default_class_names(count)
    if labels is not None:
        try:
            names = data.parse_labels(labels.getvalue(), count)
        except ValueError as err:
            st.error(_("The class names cannot be used: {problem}", problem=err))
    return Inspected(model, "the uploaded model", None, upload_test_set(model, names),
                     tuple(names), input_of(model))


def upload_test_set(model, names) -> str:
    """The registered data set whose test pictures fit an uploaded model ("" if none): the
    one with the same class names, else a choice among those of the same shape and count."""
    fitting = data.matching_datasets(input_of(model), outputs_of(model))
    same = [name for name in fitting if tuple(dataset_entry(name).class_names) == tuple(names)]
    if same or len(fitting) <= 1:
        return (same or fitting or [""])[0]
    return st.selectbox(_("Test pictures from"), fitting, key="test_set",
                        format_func=lambda name: _(dataset_entry(name).title))


def pick_pretrained(has_runs: bool) -> Optional[Inspected]:
    """The model that ships with the playground (scripts/train_pretrained.py made it)."""
    st.query_params.pop("run", None)   # a reload stays on this model
    try:
        info = pretrained.pretrained_info()
        with st.spinner(_("Loading the pretrained model…")):
            model = pretrained.pretrained_model()
    except pretrained.PretrainedUnavailable as err:
        st.error(_("The pretrained model cannot be shown: {error}", error=err))
        return None
    if not has_runs:
        st.info(_("No saved run yet, so here is the pretrained model. Train your own on the "
                  "**Live Training** page (the default network takes about half a minute)."))
        st.page_link(HERE / "training.py", label=_("Live Training"),
                     icon=":material/monitoring:", query_params=link_query())
    st.caption(_("The playground's default network ({preset}, {parameters} parameters) trained "
                 "on the 60,000 MNIST training digits with its own recipe, seed {seed}: "
                 "{accuracy} % test accuracy. `{command}` makes it again.",
                 preset=info.get("preset", "?"), parameters=f"{model.count_params():,}",
                 seed=info["seed"], accuracy=f"{100 * info['test_accuracy']:.2f}",
                 command=info.get("command", pretrained.REPRODUCE)))
    return Inspected(model, "the pretrained model", None, "mnist", data.MNIST_NAMES,
                     input_of(model))


def pick_model() -> Optional[Inspected]:
    """The model to inspect with its classes and data, or None. With no saved run (and no
    run in the address) the pretrained model is shown at once."""
    has_runs = bool(runs.list_runs())
    sources = ((PRETRAINED,) if pretrained.pretrained_available() else ()) + MODEL_SOURCES
    default = MODEL_SOURCES[0] if has_runs or "run" in st.query_params else sources[0]
    source = st.radio(_("Model"), sources, index=sources.index(default), horizontal=True,
                      key="model_source", format_func=_)
    if source == PRETRAINED:
        return pick_pretrained(has_runs)
    return pick_run() if source == MODEL_SOURCES[0] else pick_upload()


def picture_sources(inspected: Inspected) -> list[str]:
    test = TEST_DIGIT if inspected.digits else TEST
    sources = [test] if inspected.dataset else []
    if inspected.input_shape[2] == 1:    # drawing makes sense for one channel only
        sources.append(DRAW)
    return sources + [PHOTO]


def pick_picture(inspected: Inspected):
    """((H, W, C) float32 picture in [0, 1], true class or None), or (None, None) until there
    is a picture."""
    sources = picture_sources(inspected)
    default = st.query_params.get("input", sources[0])
    current = st.session_state.get("input_source")
    if current is not None and current not in sources:   # another model: its own choices
        del st.session_state["input_source"]
        default = current
    if default in (TEST, TEST_DIGIT):
        default = sources[0]
    source = st.radio(_("Input"), sources, horizontal=True, key="input_source", format_func=_,
                      index=sources.index(default) if default in sources else 0)
    st.query_params["input"] = source
    if source in (TEST, TEST_DIGIT):
        return chosen_test_picture(inspected)
    if source == DRAW:
        return drawn_picture(inspected)
    return photo_picture(inspected)


def random_picture(count: int):
    st.session_state["digit_index"] = random.randrange(count)


def chosen_test_picture(inspected: Inspected):
    name = inspected.dataset
    title = _(dataset_entry(name).title) if name in dataset_names() else _("this run's pictures")
    try:
        folder = runs.run_path(inspected.run_id) if inspected.run_id else None
        modified = (folder / data.ARRAYS_FILE).stat().st_mtime if name == data.PICTURES else 0.0
        with st.spinner(_("Loading the test pictures…")):
            x_test, y_test = held_out(name, inspected.run_id if name == data.PICTURES
                                      else None, modified)
    except DatasetUnavailable as err:
        st.error(_("The test pictures of {title} are not on this machine: {how_to}",
                   title=title, how_to=err.how_to))
        return None, None
    except (ValueError, OSError) as err:
        st.error(_("The test pictures of {title} are not available: {problem}", title=title,
                   problem=err))
        return None, None
    except Exception as err:  # noqa: BLE001 - mnist.MnistUnavailable or a missing module
        st.error(_("The test pictures of {title} are not available: {problem}", title=title,
                   problem=err))
        return None, None
    count = len(x_test)
    if not count:
        st.error(_("{title} has no test pictures.", title=title))
        return None, None
    param = "digit" if inspected.digits else "picture"
    index = st.session_state.get("digit_index")
    if not isinstance(index, int) or not 0 <= index < count:
        wanted = st.query_params.get(param, "0")
        # isdecimal, not isdigit: "²" is a digit that int() cannot read.
        index = int(wanted) if wanted.isdecimal() else -1
        st.session_state["digit_index"] = index if 0 <= index < count else 0
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    number = (_("Test digit number ({title}, {count} pictures)", title=title,
                count=f"{count:,}") if inspected.digits else
              _("Test picture number ({title}, {count} pictures)", title=title,
                count=f"{count:,}"))
    index = left.number_input(number, 0, count - 1, step=1, key="digit_index")
    right.button(_("Random digit") if inspected.digits else _("Random picture"),
                 on_click=random_picture, args=(count,), icon=":material/casino:")
    st.query_params[param] = str(index)
    label = int(y_test[int(index)])
    picture = data.as_picture(x_test[int(index)])
    if picture.shape != inspected.input_shape:
        st.error(_("The test pictures are {shape} but the model takes {model_shape}.",
                   shape=shape_text(picture.shape),
                   model_shape=shape_text(inspected.input_shape)))
        return None, None
    return picture, (label if label < len(inspected.class_names) else None)


def drawn_picture(inspected: Inspected):
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception as err:  # noqa: BLE001 - the component failed to register
        st.error(_("The drawing canvas is not available here ({error}); pick a test picture "
                   "or upload a photo instead.", error=type(err).__name__))
        return None, None
    height, width = inspected.input_shape[:2]
    left, right = st.columns(2)
    with left:
        if inspected.digits:
            st.caption(_("Draw one digit, large, in the middle (the bin icon clears the "
                         "canvas)."))
            colours = dict(stroke_color="#000000", background_color="#ffffff")
        else:  # like Fashion-MNIST: a light thing on black, drawn as it will be seen
            st.caption(_("Draw one thing, large, in light strokes on black (the bin icon "
                         "clears the canvas)."))
            colours = dict(stroke_color="#ffffff", background_color="#000000")
        result = st_canvas(stroke_width=20, height=CANVAS_PX, width=CANVAS_PX,
                           drawing_mode="freedraw", return_image_data=True, key="canvas",
                           **colours)
    drawing = result.image_data if result is not None else None
    if drawing is None:
        right.info(_("Draw a digit on the canvas.") if inspected.digits else
                   _("Draw on the canvas."))
        return None, None
    if inspected.digits:
        try:
            digit = preprocess.preprocess_digit(drawing)
        except ValueError:
            right.info(_("Draw a digit on the canvas."))
            return None, None
        right.plotly_chart(charts.digit_figure(digit, _("What the network sees (28×28, "
                                                        "MNIST-style)")), key="drawn_digit")
        return digit[..., None], None
    if float(drawing[..., :3].max(initial=0)) < 26:   # nothing drawn yet: black everywhere
        right.info(_("Draw on the canvas."))
        return None, None
    picture = preprocess.fit_picture(drawing, inspected.input_shape)
    right.plotly_chart(charts.digit_figure(
        picture, _("What the network sees ({height}×{width}, resized)", height=height,
                   width=width)), key="drawn_digit")
    return picture, None


def photo_picture(inspected: Inspected):
    height, width, channels = inspected.input_shape
    limit = preprocess.MAX_PHOTO_BYTES // 2**20
    upload = st.file_uploader(
        _("A photo of one handwritten digit (PNG, JPEG, WebP, BMP or GIF; at most {limit} MB)",
          limit=limit) if inspected.digits else
        _("A photo of one thing, in the middle (PNG, JPEG, WebP, BMP or GIF; at most {limit} "
          "MB)", limit=limit), type=PHOTO_TYPES, key="photo_upload")
    if upload is None:
        if inspected.digits:
            st.info(_("Upload a photo: dark ink on light paper or a light digit on a dark "
                      "background."))
        elif channels == 3:
            st.info(_("Upload a photo: its centre is cut out and resized to {height}×{width} "
                      "in colour.", height=height, width=width))
        else:
            st.info(_("Upload a photo: its centre is cut out and resized to {height}×{width} "
                      "in grayscale.", height=height, width=width))
        return None, None
    try:
        photo = preprocess.decode_photo(upload.getvalue())
        if inspected.digits:
            picture = preprocess.preprocess_digit(photo)[..., None]
        else:
            picture = preprocess.fit_picture(photo, inspected.input_shape)
    except ValueError as err:
        st.error(_("This picture cannot be used: {problem}", problem=err))
        return None, None
    left, right = st.columns(2)
    left.plotly_chart(charts.photo_figure(photo, _("Your photo")), key="photo_original")
    if inspected.digits:
        title = _("Pre-processed like MNIST (28×28)")
        recipe = _("MNIST's recipe: grayscale, inverted if the paper is light, cut to the "
                   "digit, scaled into a 20×20 box and centred by mass in 28×28.")
    else:
        mode = "RGB" if channels == 3 else _("grayscale")
        title = _("Centre-cropped and resized to {height}×{width} ({mode})", height=height,
                  width=width, mode=mode)
        recipe = _("The largest centred {width}:{height} window of the photo, resized to "
                   "{height}×{width} in {mode} (no digit recipe: this model is not a digit "
                   "classifier).", width=width, height=height, mode=mode)
    right.plotly_chart(charts.digit_figure(picture, title), key="photo_digit")
    right.caption(recipe)
    return picture, None


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


def show_layer(model, number: int, name: str, output, previous,
               class_names: Optional[tuple] = None) -> None:
    """One stage of the pipeline: the layer, its output, its filters, a clicked map large.

    ``previous``: (name, output) of the stage before, to show where a pooled map came from;
    ``class_names`` label the bars of the last layer.
    """
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    label = preprocess.safe_name(name)
    kind, _space, words = forward.layer_description(model, name).partition(" ")
    st.markdown(f"**{number}. {label}** · {kind} {describe_text(words)}".rstrip())
    kind = preprocess.output_kind(output)
    if kind == "vector":
        st.plotly_chart(charts.vector_figure(output, _("{layer}: {count} values", layer=label,
                                                       count=len(output)),
                                             labels=charts.class_labels(len(output),
                                                                        class_names)),
                        key=f"vector_{number}")
        return
    if kind != "maps":
        st.caption(_("Output of shape {shape} (not drawn).", shape=shape_text(output.shape)))
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
            charts.feature_maps_figure(output, _("{layer}: {count} feature maps (click one)",
                                                 layer=label, count=count),
                                       height=height, selected=selected),
            key=chart_key, selection_mode="points",
            on_select=functools.partial(remember_map, name, chart_key, count, ncols, (h, w)))
    if kernel is not None:
        kh, kw, c, f = kernel.shape
        with columns[1]:
            colour = c == 3 and previous[0] == "input"   # a first layer on colour pictures
            figure = charts.rgb_filters_figure if colour else charts.filters_figure
            st.plotly_chart(figure(kernel, title=_("its {count} filters, {shape} each",
                                                   count=f, shape=f"{kh}×{kw}×{c}"),
                                   height=height), key=f"filters_{number}")
            if colour:
                st.caption(_("Each filter drawn as a small RGB picture (grey = weight 0): "
                             "its red, green and blue slices slide over the picture's red, "
                             "green and blue channels."))
            elif c > 1:
                st.caption(_("Column j is filter j: its {count} slices, one per input channel "
                             "(row), each sliding over that channel of the layer's input.",
                             count=c))
    if selected is None or selected >= count:
        return
    detail = forward.feature_map_detail(model, name, output, selected, previous)
    big_left, big_right = st.columns(2)
    big_left.plotly_chart(
        charts.feature_map_figure(detail["map"], _("feature map {index} of {layer} ({shape})",
                                                   index=selected, layer=label,
                                                   shape=f"{h}×{w}")),
        key=f"map_detail_{number}")
    if detail["kernel"] is not None:
        c, kh, kw = detail["kernel"].shape
        big_right.plotly_chart(
            charts.filter_detail_figure(detail["kernel"], detail["bias"],
                                        _("filter {index}: {count} slice(s) of {shape}",
                                          index=selected, count=c, shape=f"{kh}×{kw}")),
            key=f"filter_detail_{number}")
    elif detail["source"] is not None:
        source = detail["source"]
        big_right.plotly_chart(
            charts.feature_map_figure(
                source, _("… made from map {index} of {layer} ({shape})", index=selected,
                          layer=preprocess.safe_name(detail["source_name"]),
                          shape=shape_text(source.shape))),
            key=f"map_source_{number}")
    else:
        big_right.caption(_("This layer has no filter."))


@st.fragment
def show_pipeline(model, picture, class_names: tuple, word: str) -> None:
    """A fragment: clicking a feature map reruns only this part of the page."""
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    st.subheader(_("Through the network, layer by layer"))
    st.caption(_("Each layer's output for this {word}; between layers, the shape and the "
                 "smallest and largest value that flow on. Click a feature map to see it and "
                 "its filter large.", word=_(word)))
    stages = forward.pipeline(model, picture)
    st.text(_("input") + f"  ⟶  {preprocess.describe_output(stages[0][1])}")
    last = len(stages) - 1
    for number, (previous, (name, output)) in enumerate(zip(stages, stages[1:]), start=1):
        with st.container(border=True):
            show_layer(model, number, name, output, previous,
                       class_names if number == last else None)
        st.text(f"  ⬇  {preprocess.describe_output(output)}")


@st.fragment
def show_explanations(model, picture, predicted: int, class_names: tuple, word: str) -> None:
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    st.subheader(_("Which pixels mattered"))
    count = len(class_names)
    if st.session_state.get("explain_class", 0) >= count:   # another model, fewer classes
        del st.session_state["explain_class"]
    target = st.selectbox(_("Explain the score of {word}", word=_(word)), list(range(count)),
                          index=predicted, key="explain_class",
                          format_func=lambda d: f"{class_names[d]}" + (
                              " " + _("(predicted)") if d == predicted else ""))
    name = class_names[target]
    height, width = picture.shape[:2]
    result = forward.explain(model, picture, target)
    columns = st.columns(3)
    columns[0].plotly_chart(charts.overlay_figure(picture, result["saliency"],
                                                  _("Saliency: |∂ score({name}) / ∂ pixel|",
                                                    name=name)),
                            key="saliency")
    columns[0].caption(
        _("Bright where changing the pixel would change the class score most (gradient of the "
          "pre-softmax score with respect to the input, the largest over red, green and "
          "blue).") if picture.shape[-1] == 3 else
        _("Bright where changing the pixel would change the class score most (gradient of the "
          "pre-softmax score with respect to the input)."))
    if result["grad_cam"] is None:
        columns[1].info(_("No Grad-CAM: the model has no conv layer it can be computed on."))
        return
    layer = preprocess.safe_name(result["grad_cam_layer"])
    columns[1].plotly_chart(charts.overlay_figure(picture, result["grad_cam"],
                                                  _("Grad-CAM on {layer}", layer=layer)),
                            key="grad_cam")
    if float(result["grad_cam"].max()) == 0.0:
        columns[1].info(
            _("Grad-CAM is zero everywhere for {word} {name}: averaged over each whole feature "
              "map, the gradients point against the score. Grad-CAM assumes the score pools "
              "the maps globally; behind a Flatten → Dense head position matters, and the "
              "average loses it. HiResCAM (right) keeps it.", word=_(word), name=name))
    else:
        columns[1].caption(_("The feature maps of {layer}, each weighted by the average "
                             "gradient of the score of {name}, summed, ReLU, upsampled to "
                             "{height}×{width} (Selvaraju et al. 2017).", layer=layer,
                             name=name, height=height, width=width))
    columns[2].plotly_chart(charts.overlay_figure(picture, result["hires_cam"],
                                                  _("HiResCAM on {layer}", layer=layer)),
                            key="hires_cam")
    columns[2].caption(_("Like Grad-CAM, but each position's activation is multiplied by the "
                         "gradient at that position (Draelos & Carin 2020): where the layer's "
                         "features raised the score of {name}.", name=name))


@st.cache_data(max_entries=24, show_spinner=False)
def feature_grid(model_key: str, layer: str, _model):
    """``features.visualise``, once per model and layer: reruns and revisits read it back."""
    from playground.inspector import features

    return features.visualise(_model, layer)


@st.cache_data(max_entries=24, show_spinner=False)
def best_test_activations(model_key: str, layer: str, dataset: str, _model):
    """(largest activation, index of the picture) of each unit over the data set's first
    1,000 test pictures."""
    from playground.inspector import features

    pictures = features.as_pictures(held_out(dataset, None, 0.0)[0][:1000])
    activations = features.unit_activations(_model, layer, pictures)
    return activations.max(axis=0), activations.argmax(axis=0)


@st.fragment
def show_features(inspected: Inspected) -> None:
    """What a filter wants to see: made when "Generate" is pressed, cached per model+layer."""
    from playground.charts import features as feature_charts
    from playground.inspector import features

    st.subheader(_("What a filter wants to see"))
    st.caption(_("Gradient ascent on the input: from faint noise, the pixels are changed step "
                 "by step to excite one filter (or one class score) as much as possible, with "
                 "jitter, blur and decay keeping it a picture (Olah et al., Distill 2017)."))
    model, classes = inspected.model, features.CLASS_OBJECTIVE
    counts = dict(features.conv_layers(model))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    layer = left.selectbox(_("Layer"), [*counts, classes], key="features_layer",
                           format_func=lambda name: _("the output: the classes (their scores "
                                                      "before softmax)") if name == classes else
                           _("{layer} ({count} filters)", layer=preprocess.safe_name(name),
                             count=counts[name]))
    key = features.model_key(model)
    shown = st.session_state.setdefault("features_shown", set())
    if right.button(_("Generate"), icon=":material/auto_awesome:", key="features_generate"):
        shown.add((key, layer))
    if (key, layer) not in shown:
        st.caption(_("Pick a layer and press **Generate** (a few seconds)."))
        return
    try:
        with st.spinner(_("Generating…")):
            grid = feature_grid(key, layer, model)
    except Exception as err:  # noqa: BLE001 - a layer Keras cannot copy or differentiate
        why = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        st.error(_("No pictures for this layer: {error}", error=why[:200]))
        return
    names = [_(inspected.class_names[u]) if layer == classes else str(u) for u in grid.units]
    if layer != classes and counts[layer] > len(grid.units):
        st.caption(_("The first {shown} of its {count} filters.", shown=len(grid.units),
                     count=counts[layer]))
    where = preprocess.safe_name(layer) if layer != classes else _("the output")
    st.plotly_chart(feature_charts.feature_grid_figure(
        grid.pictures, names, _("What each unit of {layer} wants to see ({steps} steps)",
                                layer=where, steps=grid.steps)), key="features_grid")
    try:
        best, best_index = (v[grid.units] for v in best_test_activations(
            key, layer, inspected.dataset, model)) if inspected.dataset in dataset_names() \
            else (None, None)
    except Exception:  # noqa: BLE001 - no test pictures here: the grid alone
        best = best_index = None
    if best is not None:
        st.plotly_chart(feature_charts.activation_comparison_figure(
            names, grid.activations, best, _("Each generated picture against the best of "
                                             "1,000 test pictures"),
            axis_title=_("class") if layer == classes else _("filter"),
            value_title=_("score before softmax") if layer == classes
            else _("mean activation")), key="features_bars")
        st.caption(_("{beaten} of {count} generated pictures excite their unit more than any "
                     "of the first 1,000 test pictures does.", count=len(names),
                     beaten=int((grid.activations > best).sum())))
    if st.session_state.get("features_unit", 0) >= len(names):   # another layer, fewer units
        del st.session_state["features_unit"]
    unit = st.selectbox(_("Look closer at"), range(len(names)), format_func=names.__getitem__,
                        key="features_unit")
    big_left, big_right = st.columns(2)
    big_left.plotly_chart(charts.digit_figure(grid.pictures[unit], _(
        "Generated for {unit}: {value}", unit=names[unit],
        value=f"{grid.activations[unit]:.3f}")), key="features_generated")
    if best is not None:
        picture = data.as_picture(held_out(inspected.dataset, None, 0.0)[0][best_index[unit]])
        big_right.plotly_chart(charts.digit_figure(picture, _(
            "The test picture that excites it most: {value}", value=f"{best[unit]:.3f}")),
            key="features_best_test")


# network.model_summary's columns (English keys) as this session names them.
SUMMARY_HEADERS = {"layer": N_("layer"), "type": N_("type"), "output shape": N_("output shape"),
                   "parameters": N_("parameters"), "Shape Lab shape": N_("Shape Lab shape"),
                   "Shape Lab parameters": N_("Shape Lab parameters")}


def show_summary(inspected: Inspected) -> None:
    model = inspected.model
    st.subheader(_("Model summary"))
    rows = network.model_summary(model)
    for row in rows:
        row["layer"] = preprocess.safe_name(row["layer"])
    st.dataframe(rows, hide_index=True, key="summary", column_config={
        column: _(SUMMARY_HEADERS[column]) for column in (rows[0] if rows else {})
        if column in SUMMARY_HEADERS})
    total = int(model.count_params())
    if rows and "Shape Lab shape" in rows[0]:
        st.caption(_("{count} parameters. The Shape Lab columns are computed from the "
                     "network description alone (no TensorFlow) and agree with Keras.",
                     count=f"{total:,}"))
    else:
        st.caption(_("{count} parameters. This model has layers the Shape Lab does not "
                     "describe, so only Keras' numbers are shown.", count=f"{total:,}"))
    show_downloads(inspected)


def show_downloads(inspected: Inspected) -> None:
    """The model as a .keras archive and as an .h5 file (made when the button is clicked)."""
    stem = f"run-{inspected.run_id}" if inspected.run_id else "model"
    if inspected.run_id:
        keras_bytes = functools.partial(loading.run_model_path(inspected.run_id).read_bytes)
    else:
        keras_bytes = functools.partial(loading.model_file_bytes, inspected.model, "keras")
    left, right = st.columns([1, 1, 2])[:2]
    left.download_button(_("Download as .keras"), keras_bytes, file_name=f"{stem}.keras",
                         mime="application/octet-stream", icon=":material/download:",
                         key="download_keras", on_click="ignore")
    right.download_button(_("Download as .h5"), functools.partial(
        loading.model_file_bytes, inspected.model, "h5"), file_name=f"{stem}.h5",
        mime="application/octet-stream", icon=":material/download:", key="download_h5",
        on_click="ignore")
    st.caption(_("`.h5` is the legacy format of `model.save('my_model.h5')` (the course's); "
                 "`keras.models.load_model` reads both."))


def main() -> None:
    st.title(_("Model Inspector"))
    st.caption(_("Take a trained image classifier, give it one picture, and look inside: every "
                 "layer's output, its filters, the probabilities, and which pixels decided."))
    inspected = pick_model()
    if inspected is None:
        return
    from playground.inspector import explain as forward  # TensorFlow: a model is loaded

    picture, true_label = pick_picture(inspected)
    if picture is not None:
        names = tuple(_(name) for name in inspected.class_names)   # English in saved runs
        word = "digit" if inspected.digits else "class"
        probabilities = forward.predict(inspected.model, picture)
        predicted = preprocess.top_class(probabilities)
        left, right = st.columns([1, 2])
        left.plotly_chart(charts.digit_figure(
            picture, _("Input ({shape})", shape=shape_text(inspected.input_shape))),
            key="input_digit")
        right.plotly_chart(charts.probabilities_figure(
            probabilities, true_label, class_names=None if inspected.digits else names),
            key="probabilities")
        show_pipeline(inspected.model, picture, names, N_("digit") if inspected.digits
                      else N_("picture"))
        show_explanations(inspected.model, picture, predicted, names, word)
    show_features(inspected)
    show_summary(inspected)


main()
