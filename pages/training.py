"""Live Training: pick a data set (MNIST, Fashion-MNIST, CIFAR-10, generated shapes or your own
pictures), a network and settings, train in a background process, watch it learn (loss,
filters, activations, gradients), then test, compare, ensemble and download.

Thin page: widgets and calls into playground.training (settings, jobs, saved-run results),
playground.datasets (the data sets, own pictures) and playground.charts.training (figures).
TensorFlow runs only in the worker processes: showing this page imports none.
"""
from typing import Optional

import streamlit as st

from playground.charts import replay as replay_charts
from playground.charts import training as charts
from playground.core import layers, network, runs
from playground.datasets import DatasetUnavailable, images, load_dataset, zip_import
from playground.datasets.base import Dataset
from playground.datasets.registry import REGISTRY
from playground.i18n import N_, _
from playground.teacher import access, board
from playground.training import backends, history, jobs, results, texts
from playground.training import settings as training
from playground.training.snapshot import Snapshot, activations_text

LIVE_EVERY = 0.5  # seconds between live-panel refreshes (the issue asks for >= 1 per second)
PROPS = training.PROPS
LIVE_VIEWS = [N_("Activations"), N_("Deeper filters"), N_("Weights & gradients"), N_("Per epoch")]


def registry() -> jobs.Registry:
    """One registry per server (a process-wide one, shared with the Teacher page): jobs
    survive browser refreshes and are shared by sessions. Local processes, or a Ray cluster
    when $PLAYGROUND_RAY_ADDRESS is set (backends.py)."""
    return backends.shared_registry()


@st.cache_data(max_entries=16, show_spinner=False)
def evaluation(run_id: str, stamp: float):
    return results.evaluation(run_id)


def chart(figure, key: str, **kwargs):
    return st.plotly_chart(figure, key=key, width="stretch", **kwargs)


# The results tables' columns (results.py names them in English) as this session shows them.
HEADERS = {"run": N_("run"), "data": N_("data"), "network": N_("network"),
           "optimizer": N_("optimizer"), "learning rate": N_("learning rate"),
           "epochs": N_("epochs"), "status": N_("status"), "test accuracy": N_("test accuracy"),
           "test accuracy %": N_("test accuracy %"), "test picture": N_("test picture"),
           "label": N_("label"), "layer": N_("layer"), "type": N_("type"),
           "output shape": N_("output shape"), "parameters": N_("parameters"),
           "Shape Lab shape": N_("Shape Lab shape"),
           "Shape Lab parameters": N_("Shape Lab parameters")}


def headers(rows) -> dict:
    """column_config naming a table's columns in this session's language."""
    columns = rows[0] if rows else {}
    return {column: _(HEADERS[column]) for column in columns if column in HEADERS}


# ------------------------------------------------------------------------- a new run

def dataset_title(name: str) -> str:
    return _(REGISTRY[name].title) if name in REGISTRY else _("Your own pictures (zip or camera)")


def class_words(names) -> list[str]:
    """Class names as this session shows them (the data sets' English names translated; the
    learner's own names and digits as they are)."""
    return [_(str(name)) for name in names]


def pick_dataset() -> str:
    """The data set picker, kept in the address (?dataset=...)."""
    names = list(training.DATASETS)
    wanted = st.query_params.get("dataset")
    preset = st.query_params.get("preset")
    default = wanted if wanted in names else (
        training.home_dataset(preset) if preset in network.PRESETS else names[0])
    name = st.selectbox(_("Data set"), names, index=names.index(default), key="dataset",
                        format_func=dataset_title, help=_(PROPS["dataset"].help))
    # A bad value stays in the address (the settings' check names it, as for the others).
    if (wanted in names and wanted != name) or (wanted is None and name != names[0]):
        st.query_params["dataset"] = name
    return name


def dataset_caption(info: training.DataInfo) -> None:
    shown = ", ".join(class_words(info.class_names[:12])) + (
        " …" if len(info.class_names) > 12 else "")
    text = _("{train} training and {test} test pictures of {shape}, {count} classes: {names}.",
             train=f"{info.n_train:,}", test=f"{info.n_test:,}",
             shape="×".join(map(str, info.input_shape)), count=len(info.class_names),
             names=shown)
    entry = REGISTRY.get(info.name)
    if entry is not None:
        text += " " + _("Source: {source}. Licence: {licence}. Offline: {offline}.",
                        source=entry.source, licence=entry.licence, offline=_(entry.offline))
    st.caption(text)


# Prepared pictures are kept per upload (Streamlit's file ids) and preparation settings.
@st.cache_resource(max_entries=4, ttl=3600, show_spinner=False)
def prepared_zip(file_id: str, _data: bytes, size: int, color: bool, seed: int) -> Dataset:
    return zip_import.dataset_from_zip(_data, size, color, seed)


@st.cache_resource(max_entries=4, ttl=3600, show_spinner=False)
def prepared_classes(key: tuple, _classes: dict, size: int, color: bool, seed: int) -> Dataset:
    return zip_import.dataset_from_classes(_classes, size, color, seed)


def _add_photo(index: int) -> None:
    photo = st.session_state.get(f"own_camera_{index}")
    if photo is not None:
        st.session_state.setdefault(f"own_photos_{index}", []).append(
            (f"camera-{len(st.session_state.get(f'own_photos_{index}', []))}.jpg",
             photo.getvalue()))


def built_classes() -> tuple[tuple, dict]:
    """Classes built on the page: a name, uploaded pictures and camera photos each."""
    count = st.number_input(_("Classes"), 2, 6, 2, key="own_classes")
    classes, key = {}, []
    columns = st.columns(int(count))
    for index, column in enumerate(columns):
        with column:
            name = st.text_input(_("Class name"), value=_("class {number}", number=index + 1),
                                 max_chars=40, key=f"own_name_{index}")
            files = st.file_uploader(_("Pictures"), accept_multiple_files=True,
                                     type=["png", "jpg", "jpeg", "webp", "gif", "bmp", "tiff"],
                                     key=f"own_files_{index}",
                                     max_upload_size=images.MAX_BYTES // 2**20)
            with st.popover(_("Camera"), icon=":material/photo_camera:"):
                st.camera_input(_("Take a photo"), key=f"own_camera_{index}")
                st.button(_("Add this photo"), key=f"own_add_{index}", on_click=_add_photo,
                          args=(index,))
            photos = st.session_state.get(f"own_photos_{index}", [])
            st.caption(_("{uploaded} uploaded, {camera} from the camera",
                         uploaded=len(files or []), camera=len(photos)))
            pictures = [(f.name, f.getvalue()) for f in files or []] + list(photos)
            classes[name] = pictures
            key.append((name, tuple(f.file_id for f in files or []), len(photos)))
    return tuple(key), classes


def own_pictures(seed: int) -> Optional[Dataset]:
    """The learner's pictures prepared as a data set (None until there are some)."""
    source = st.radio(_("Your pictures"), [N_("A zip with one folder per class"),
                                           N_("Classes built here")], horizontal=True,
                      key="own_source", format_func=_)
    c1, c2 = st.columns(2)
    size = c1.select_slider(_("Picture size (px, square)"), [16, 24, 32, 48, 64, 96, 128],
                            value=32, key="own_size",
                            help=_("Each picture's centre square, resized. Larger pictures "
                                   "train more slowly."))
    color = c2.toggle(_("Colour (RGB)"), value=True, key="own_color",
                      help=_("Off: grayscale (one channel)."))
    try:
        if source.startswith("A zip"):
            upload = st.file_uploader(
                _("A .zip of pictures: cats/…, dogs/…"), type=["zip"], key="own_zip",
                max_upload_size=zip_import.MAX_ZIP_BYTES // 2**20,
                help=_("Up to {megabytes} MB, {files} files and {classes} classes; each class "
                       "needs at least {least} pictures. Nothing is unpacked to disk.",
                       megabytes=f"{zip_import.MAX_ZIP_BYTES // 2**20:,}",
                       files=f"{zip_import.MAX_MEMBERS:,}", classes=zip_import.MAX_CLASSES,
                       least=zip_import.MIN_PER_CLASS))
            if upload is None:
                return None
            with st.spinner(_("Preparing your pictures…")):
                data = prepared_zip(upload.file_id, upload.getvalue(), size, color, seed)
        else:
            key, classes = built_classes()
            if not any(classes.values()):
                return None
            with st.spinner(_("Preparing your pictures…")):
                data = prepared_classes(key, classes, size, color, seed)
    except ValueError as err:
        st.error(str(err).splitlines()[0], icon=":material/folder_off:")
        return None
    for note in data.notes:   # i18n.Later: in this reader's language
        st.caption(_(note))
    counts = ", ".join(f"{name} {n}" for name, n in zip(data.class_names,
                                                         data.class_counts("train")))
    st.caption(_("Training pictures per class: {counts}; {test} test pictures.",
                 counts=counts, test=len(data.y_test)))
    first = [int(next(i for i, y in enumerate(data.y_train) if y == k))
             for k in range(data.num_classes)]
    chart(charts.gallery_figure(data.x_train[first] / 255.0, list(data.class_names),
                                ncols=len(first), height=170), "own_gallery")
    return data


def pick_preset(info: training.DataInfo) -> str:
    """The network picker (networks that fit the data set); a spec in the address picks the
    custom network."""
    presets = training.trainable_presets(info) + [training.CUSTOM]
    wanted = st.query_params.get("preset")
    default = training.CUSTOM if st.query_params.get("spec") else (
        wanted if wanted in presets else presets[0])
    return st.selectbox(_("Network"), presets, index=presets.index(default), key="preset",
                        format_func=_,
                        help=_("The course's networks that fit this data set, or your own from "
                               "the Shape Lab (its layer table as JSON)."))


def spec_box(info: training.DataInfo) -> str:
    presets = training.trainable_presets(info)
    example = training.preset_for(presets[0], info) if presets else {}
    return st.text_area(
        _("Network spec (JSON)"), height=140,
        value=st.query_params.get("spec") or network.to_json(example),
        help=_("Paste the JSON the Shape Lab shows, or come here from its 'Train this network' "
               "link. Its input must have the data's channels and at most its size, its last "
               "layer Dense({classes}, softmax).", classes=len(info.class_names)))


def settings_form(preset: str, defaults: dict, info: training.DataInfo) -> Optional[dict]:
    """The settings widgets (ranges from PROPS, capped at the data set's size); the raw
    settings once Start is pressed."""
    with st.form("settings", border=False):
        spec_text = spec_box(info) if preset == training.CUSTOM else None
        c1, c2, c3, c4 = st.columns(4)
        optimizer = c1.selectbox(_("Optimizer"), training.OPTIMIZERS,
                                 index=training.OPTIMIZERS.index(defaults["optimizer"]),
                                 key=f"opt-{preset}")
        # %g: a rate of 1e-7 reads 1e-7, where a fixed "%.5f" showed 0.00000.
        learning_rate = c2.number_input(_("Learning rate"),
                                        **PROPS["learning_rate"].widget_range(),
                                        value=float(defaults["learning_rate"]), format="%g",
                                        key=f"lr-{preset}")
        batch_size = c3.number_input(_("Batch size"), **PROPS["batch_size"].widget_range(),
                                     value=int(defaults["batch_size"]), step=16,
                                     key=f"bs-{preset}")
        epochs = c4.number_input(_("Epochs"), **PROPS["epochs"].widget_range(),
                                 value=int(defaults["epochs"]), key=f"ep-{preset}")
        c1, c2, c3, c4, c5 = st.columns(5)
        schedule = c5.selectbox(_("Learning-rate schedule"), training.LR_SCHEDULES,
                                index=training.LR_SCHEDULES.index(defaults["lr_schedule"]),
                                key=f"sched-{preset}", help=_(PROPS["lr_schedule"].help))
        low, high = PROPS["train_examples"].widget_range().values()
        train_examples = c1.number_input(_("Training examples"),
                                         min_value=min(low, info.n_train),
                                         max_value=info.n_train,
                                         value=min(int(defaults["train_examples"]),
                                                   info.n_train),
                                         step=1000, key=f"n-{preset}-{info.name}",
                                         help=_(PROPS["train_examples"].help))
        validation_split = c2.slider(_("Validation split"),
                                     **PROPS["validation_split"].widget_range(),
                                     value=float(defaults["validation_split"]), step=0.05,
                                     key=f"vs-{preset}")
        dropout = c3.slider(_("Dropout rate (0 = as in the network)"),
                            **PROPS["dropout"].widget_range(),
                            value=float(defaults["dropout"] or 0.0), step=0.05,
                            key=f"do-{preset}", help=_(PROPS["dropout"].help))
        seed = c4.number_input(_("Random seed"), **PROPS["seed"].widget_range(),
                               value=int(defaults["seed"]), key=f"seed-{preset}",
                               help=_(PROPS["seed"].help))
        probe = st.number_input(_("Probe picture (test set index, shown live)"), min_value=0,
                                max_value=info.n_test - 1,
                                value=min(int(defaults["probe_index"]), info.n_test - 1),
                                key=f"probe-{info.name}", help=_(PROPS["probe_index"].help))
        start = st.form_submit_button(_("Start training"), type="primary",
                                      icon=":material/play_arrow:")
    if not start:
        return None
    return dict(dataset=info.name, preset=preset, optimizer=optimizer, learning_rate=learning_rate,
                lr_schedule=schedule, momentum=defaults["momentum"], batch_size=batch_size,
                epochs=epochs, train_examples=train_examples, validation_split=validation_split,
                dropout=dropout or None, seed=seed, probe_index=probe, spec=spec_text)


def new_run(reg: jobs.Registry) -> None:
    """The 'New run' form; Start begins a job and puts its id in the address."""
    problems_box = st.container()
    with st.expander(_("New run"), expanded=not st.query_params.get("job")):
        name = pick_dataset()
        data = None
        if name == training.PICTURES:
            data = own_pictures(int(st.session_state.get("own_seed", 0)))
            if data is None:
                st.info(_("Upload a zip, or build two or more classes, to train on your own "
                          "pictures."))
                return
        info = training.data_info(name, data)
        dataset_caption(info)
        preset = pick_preset(info)
        defaults, problems = training.settings_from_query(
            st.query_params, training.default_settings(preset))
        for problem in problems:
            problems_box.warning(_("Ignored a setting in the address: {problem}",
                                   problem=problem))
        if preset in network.PRESETS:
            st.caption(_(network.PRESETS[preset].get("description", "")))
        # Only where a teacher's view exists ($PLAYGROUND_TEACHER_PASSWORD): who trained it.
        learner = st.text_input(_("Your name (optional, for the teacher's view)"),
                                max_chars=board.MAX_NAME, key="learner") \
            if access.enabled() else ""
        raw = settings_form(preset, defaults, info)
        if raw is None:
            return
        try:
            training.normalize_settings(raw, data)  # a bad setting is named before loading
            if data is None:
                with st.spinner(_("Loading {title}…", title=_(info.title))):
                    load_dataset(name)
            job = reg.start(raw, data=data)
            board.save_learner(job.folder, learner)
        except DatasetUnavailable as err:
            st.error(_("Cannot start: {title} is not on this machine. {how_to}",
                       title=_(info.title), how_to=err.how_to))
        except ValueError as err:
            st.error(_("Cannot start: {problem}", problem=err))
        else:
            st.query_params["job"] = job.run_id
            st.rerun()


# ------------------------------------------------------------------------- the live run

def controls(job: jobs.Job) -> None:
    c1, c2, c3, c4 = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
    if job.state == "paused":
        if c1.button(_("Resume"), icon=":material/play_arrow:", key="resume",
                     width="stretch"):
            job.resume()
    elif c1.button(_("Pause"), icon=":material/pause:", key="pause", width="stretch",
                   disabled=job.state not in ("running", "loading", "starting")):
        job.pause()
    if c2.button(_("Stop"), icon=":material/stop:", key="stop", width="stretch"):
        job.stop()
    # A fixed default: the live rate changes every batch under a schedule, and a changing
    # default would reset what the user is typing.
    new_lr = c3.number_input(_("New learning rate"), **PROPS["learning_rate"].widget_range(),
                             value=float(job.settings["learning_rate"]), format="%g",
                             key=f"lr-now-{job.run_id}")
    if c4.button(_("Apply rate"), key="apply-lr", width="stretch"):
        try:
            job.set_learning_rate(new_lr)
        except ValueError as err:
            st.error(str(err))
    for message in job.messages[-1:]:
        st.caption(texts.shown(message))


def progress(job: jobs.Job, snap: Snapshot) -> None:
    st.markdown(_("**Run `{run_id}`** — {state}", run_id=job.run_id, state=job.describe()))
    st.progress(snap.fraction_done, text=snap.progress_text())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(_("Samples / s"), snap.rate_text())
    c2.metric(_("Time left"), snap.eta_text())
    c3.metric(_("Loss (last batch)"),
              "–" if snap.last_loss is None else f"{snap.last_loss:.4f}")
    c4.metric(_("Learning rate"), f"{snap.learning_rate:.2g}" if snap.learning_rate else "–")
    if snap.device:  # what TensorFlow in the worker saw (a Ray node's GPU, or this CPU)
        st.caption(_("Trains on: {device}", device=snap.device))


def first_filters(first, name: str) -> None:
    title = _("first-layer filters ({layer}: {shape}, {count} filters)", layer=name,
              shape="×".join(map(str, first.shape[:3])), count=first.shape[3])
    if first.shape[2] != 3:
        chart(charts.filters_figure(first, 0, title=title), "live_filters")
        return
    shown = st.segmented_control(_("Colour filters as"), ["RGB", "R", "G", "B"], default="RGB",
                                 key="live_rgb")
    if shown in (None, "RGB"):
        chart(charts.rgb_filters_figure(first, title=title), "live_filters")
    else:
        chart(charts.filters_figure(first, "RGB".index(shown),
                                    title=_("{title}: weights on {channel}", title=title,
                                            channel=shown)), "live_filters")


def first_filters_and_probe(job: jobs.Job, snap: Snapshot) -> None:
    left, right = st.columns([3, 2])
    if snap.conv_kernels:
        name, first = next(iter(snap.conv_kernels.items()))
        with left:
            first_filters(first, name)
    undrawn = layers.undrawn_filter_kinds(job.settings.get("spec"))
    if undrawn:
        left.caption(_("The weights of {kinds} layers are not drawn here (only Conv2D "
                       "filters); their feature maps are under Activations.",
                       kinds=", ".join(undrawn)))
    if snap.probabilities is not None:
        index = job.settings["probe_index"]
        names = class_words(results.class_names(job.run_id))
        try:
            image, label = results.run_test_picture(job.run_id, index)
        except (DatasetUnavailable, ValueError) as err:
            right.caption(_("The probe picture cannot be shown: {problem}", problem=err))
            return
        with right:
            chart(charts.digit_figure(image, _("probe: test picture #{index}, {name}",
                                               index=index, name=names[label]), height=170),
                  "live_probe")
            chart(charts.probabilities_figure(snap.probabilities, label, height=200,
                                              class_names=names), "live_probs")


def activations_view(snap: Snapshot) -> None:
    if not snap.activations:
        return
    names = [a["name"] for a in snap.activations]
    picked = st.pills(_("Layer"), names, default=names[0], key="live_act_layer") or names[0]
    chart(charts.activations_figure(snap.activations[names.index(picked)], height=360,
                                    uirevision="acts"), "live_acts")
    st.caption(activations_text(snap.activations))


def deeper_filters_view(snap: Snapshot) -> None:
    names = list(snap.conv_kernels)
    if len(names) < 2:
        st.caption(_("This network has a single conv layer."))
        return
    c1, c2 = st.columns(2)
    layer = c1.selectbox(_("Conv layer"), names[1:], key="live_deep_layer")
    kernel = snap.conv_kernels[layer]
    channel = c2.slider(_("Input channel"), 0, kernel.shape[2] - 1, 0, key="live_channel")
    chart(charts.filters_figure(kernel, channel, height=360, uirevision="deep", title=_(
        "{layer}: the {count} filters' weights on input channel {channel}", layer=layer,
        count=kernel.shape[3], channel=channel)), "live_deep")


def live_charts(job: jobs.Job, snap: Snapshot) -> None:
    if not snap.started:
        return
    chart(charts.learning_curves_figure(snap.batch_log, snap.epoch_log), "live_curves")
    first_filters_and_probe(job, snap)
    view = st.segmented_control(_("Show"), LIVE_VIEWS, default=LIVE_VIEWS[0], key="live_view",
                                format_func=_)
    if view == "Activations":
        activations_view(snap)
    elif view == "Deeper filters":
        deeper_filters_view(snap)
    elif view == "Weights & gradients":
        chart(charts.layer_stats_figure(snap.layer_stats), "live_stats")
        st.caption(_("Gradients of the loss on a fixed batch of 64 training pictures, every "
                     "{every} batches (hover for min / max).", every=job.settings["stats_every"]))
    elif view == "Per epoch":
        chart(charts.epoch_figure(snap.epoch_log), "live_epochs")


def live_panel(run_id: str) -> None:
    reg = registry()
    reg.poll()
    job = reg.get(run_id)
    if job is None:  # forgotten by the registry (long finished): show the saved run
        st.rerun(scope="app")
    job.touch()
    snap = job.latest or Snapshot()
    progress(job, snap)
    if job.active:
        controls(job)
    if job.state == "queued" and getattr(reg, "name", "") == "ray":
        st.info(_("The Ray cluster has no free room for this run yet: it waits as a pending "
                  "actor, number {position} in the queue, and starts by itself.",
                  position=job.queue_position))
    elif job.state == "queued":
        st.info(_("All {slots} training slots are busy: this run is number {position} in the "
                  "queue and starts by itself.", slots=reg.max_runs,
                  position=job.queue_position))
    elif job.final and job.final.get("status") == "died":
        st.error(_("The run died: {reason}", reason=texts.shown(job.final.get("reason"))))
    live_charts(job, snap)
    if not job.active and st.session_state.get("live_was_active") == run_id:
        st.session_state.pop("live_was_active", None)
        st.rerun(scope="app")  # switch to the results view and stop the timer


def watch(job: jobs.Job) -> None:
    if job.active:
        st.session_state["live_was_active"] = job.run_id
    st.fragment(live_panel, run_every=LIVE_EVERY if job.active else None)(job.run_id)


# ------------------------------------------------------------------------- a finished run

def saved_curves(run: results.SavedRun) -> None:
    """A run no job holds any more: its status line and saved curves."""
    status = run["status"]
    st.markdown(_("**Run `{run_id}`** — {state}", run_id=run["run_id"],
                  state=texts.status_word(status.get("status")))
                + (f" — {texts.shown(status['reason'])}" if status.get("reason") else ""))
    if run["batch_log"]:
        chart(charts.learning_curves_figure(run["batch_log"], run["epoch_log"]),
              "saved_curves")
    if run["layer_stats"]:
        with st.expander(_("Weights & gradients over training")):
            chart(charts.layer_stats_figure(run["layer_stats"]), "saved_stats")


def evaluate_button(run_id: str) -> None:
    info = results.run_info(run_id)
    count = f"{info.n_test:,}" if info.n_test else ""
    label = (_("Evaluate on the {count} test digits", count=count) if info.what == "digits"
             else _("Evaluate on the {count} test pictures", count=count))
    if st.button(" ".join(label.split()), key="evaluate"):
        with st.spinner(_("Evaluating in a separate process…")):
            problem = results.evaluate_in_worker(run_id)
        if problem:
            st.error(problem)
        else:
            st.rerun()


def mistakes(result: results.Evaluation) -> None:
    """The confusion matrix; a click on a cell shows its pictures (else the worst mistakes)."""
    n = len(result["labels"])
    names = class_words(result["class_names"])
    left, right = st.columns([1, 1])
    with left:
        event = chart(charts.confusion_figure(result["matrix"], class_names=names), "confusion",
                      on_select="rerun", selection_mode="points")
        st.caption(_("Rows: true class, columns: predicted. Click a cell to see its pictures."))
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    with right:
        if points and points[0].get("customdata"):
            true, predicted = int(points[0]["customdata"][0]), int(points[0]["customdata"][1])
            picked = results.digits_where(result, true=true, predicted=predicted, limit=40)
            st.markdown(_("**True {true}, predicted {predicted}**: {count} pictures",
                          true=names[true], predicted=names[predicted], count=picked["count"])
                        + (" " + _("(first 40 shown)") if picked["count"] > 40 else ""))
        else:
            picked = results.digits_where(result, wrong_only=True, limit=40)
            st.markdown(_("**Misclassified**: {count} of {total} test pictures, most "
                          "confident mistakes first (true→predicted, probability)",
                          count=picked["count"], total=f"{n:,}"))
        colour = picked["images"].ndim == 4
        chart(charts.gallery_figure(picked["images"], picked["captions"],
                                    ncols=6 if colour else 8, height=560 if colour else 420),
              "gallery")
    with st.expander(_("Top-3 probabilities of these pictures")):
        top3 = results.top3_table(result, picked["indices"])
        st.dataframe(top3, key="top3", hide_index=True, height=300,
                     column_config=headers(top3))


def one_digit(result: results.Evaluation) -> None:
    st.subheader(_("Get one and predict"))
    n = len(result["labels"])
    names = class_words(result["class_names"])
    if st.button(_("Get a random test picture"), icon=":material/casino:", key="get_one") or \
            "one_index" not in st.session_state:
        st.session_state["one_index"] = results.random_test_index(n)
    index = st.session_state["one_index"] % n
    image, label = results.run_test_picture(result["run_id"], index)
    best = results.top_k(result["probabilities"][index], 1)[0]
    c1, c2 = st.columns([1, 2])
    c1.plotly_chart(charts.digit_figure(image, _("test picture #{index}: {name}", index=index,
                                                 name=names[label]),
                                        height=240), key="one_digit", width="stretch")
    with c2:
        verdict = _("right") if best[0] == label else _("wrong")
        st.markdown(_("Prediction **{name}** ({probability}) — {verdict}.", name=names[best[0]],
                      probability=f"{best[1]:.1%}", verdict=verdict))
        chart(charts.probabilities_figure(result["probabilities"][index], label,
                                          class_names=names), "one_probs")


def model_files(run: results.SavedRun) -> None:
    st.subheader(_("Model"))
    summary, run_id = run["summary"], run["run_id"]
    if summary.get("layers"):
        columns = [c for c in network.SUMMARY_COLUMNS if c in summary["layers"][0]]
        st.dataframe(summary["layers"], key="summary", hide_index=True,
                     column_order=columns or None, column_config=headers(summary["layers"]))
        st.caption(_("{count} parameters", count=f"{summary.get('total_params', 0):,}"))
    c1, c2 = st.columns(2)
    c1.download_button(_("Download the model (.keras)"), (run["path"] / "model.keras").read_bytes(),
                       file_name=f"{results.run_info(run_id).name}-{run_id}.keras",
                       on_click="ignore",
                       icon=":material/download:", key="dl_model")
    history = run["path"] / "history.csv"
    if history.is_file():
        c2.download_button(_("Download the history (CSV)"), history.read_bytes(),
                           file_name=f"history-{run_id}.csv", mime="text/csv",
                           on_click="ignore", icon=":material/download:", key="dl_history")


def finished_run(run: results.SavedRun, job: Optional[jobs.Job]) -> None:
    """A run that is not training: its curves (unless the live panel shows them), its test
    results, one digit to predict, and its files."""
    if job is None:
        saved_curves(run)
    elif run["status"].get("status") in jobs.ACTIVE:
        return
    if not run["has_model"]:
        st.info(_("No model was saved for this run."))
        return
    st.subheader(_("Test"))
    run_id = run["run_id"]
    with st.spinner(_("Reading the test results…")):
        result = evaluation(run_id, results.status_stamp(run_id))
    if result is None:
        evaluate_button(run_id)
        return
    st.metric(_("Test accuracy"), f"{result['accuracy']:.2%}",
              help=_("argmax of the softmax == label, over {count} test pictures",
                     count=f"{len(result['labels']):,}"))
    mistakes(result)
    one_digit(result)
    model_files(run)


# ------------------------------------------------------------------------- replay

REPLAY_EVERY = 0.4  # seconds between frames while Play runs


def _replay_play(run_id: str) -> None:
    """Play / Pause: a fresh start from the first frame when the slider is at the end."""
    if st.session_state.get("replay_playing") == run_id:
        st.session_state.pop("replay_playing", None)
        return
    st.session_state["replay_playing"] = run_id
    steps = history.frame_steps(runs.run_path(run_id))
    if st.session_state.get(f"replay_frame_{run_id}", 0) >= len(steps) - 1:
        st.session_state[f"replay_frame_{run_id}"] = 0


def replay_panel(run_id: str) -> None:
    """One moment of the run's history: the slider, the curves' marker, the filters, the
    probe's activations and probabilities. While playing, each timer tick moves one frame."""
    folder = runs.run_path(run_id)
    steps = history.frame_steps(folder)
    if not steps:
        return
    key = f"replay_frame_{run_id}"
    index = min(int(st.session_state.get(key, len(steps) - 1)), len(steps) - 1)
    playing = st.session_state.get("replay_playing") == run_id
    if playing and st.session_state.get("replay_ticked"):
        index = min(index + 1, len(steps) - 1)
    st.session_state["replay_ticked"] = playing
    st.session_state[key] = index
    if len(steps) > 1:   # a slider from 0 to 0 is an error in Streamlit
        st.slider(_("Moment (one of {count} saved frames)", count=len(steps)), 0,
                  len(steps) - 1, key=key)
    frame = history.load_frame(folder, steps[index])
    if frame is None:  # thinned out by the worker a moment ago
        st.caption(_("This moment was just replaced by a newer one; move the slider."))
        return
    job = registry().get(run_id)
    if job is not None and job.latest is not None and job.latest.started:
        batch_log, epoch_log, settings = job.latest.batch_log, job.latest.epoch_log, job.settings
    else:
        saved = results.saved_run(run_id) or {}
        batch_log, epoch_log = saved.get("batch_log", []), saved.get("epoch_log", [])
        settings = saved.get("settings", {})
    st.caption(_("After {step} batches (epoch {epoch}), {samples} training samples seen.",
                 step=frame.step, epoch=frame.epoch + 1, samples=f"{frame.samples_seen:,}"))
    top = st.container()  # curves, filters and probabilities above the layer picker
    with top:
        curves_slot = st.empty()
        left, right = st.columns([3, 2])
    convs = list(frame.conv_kernels)
    conv_layer = left.pills(_("Filters of"), convs, default=convs[0], key="replay_conv") \
        if len(convs) > 1 else None
    names = [a["name"] for a in frame.activations]
    layer = st.pills(_("Layer"), names, default=names[0] if names else None,
                     key="replay_layer") if names else None
    label, class_names = None, None
    try:
        class_names = class_words(results.class_names(run_id))
        label = results.run_test_picture(run_id, settings.get("probe_index", 0))[1]
    except (DatasetUnavailable, ValueError, OSError):
        pass
    figures = replay_charts.moment_figures(
        frame, frame.step, batch_log, epoch_log,
        layer=names.index(layer) if layer in names else 0, label=label,
        class_names=class_names, conv_layer=conv_layer)
    with curves_slot:
        chart(figures["curves"], "replay_curves")
    with top:
        if "filters" in figures:
            with left:
                chart(figures["filters"], "replay_filters")
        if "probabilities" in figures:
            with right:
                chart(figures["probabilities"], "replay_probs")
    if "activations" in figures:
        chart(figures["activations"], "replay_acts")
    if playing and index >= len(steps) - 1 and (job is None or not job.active):
        st.session_state.pop("replay_playing", None)
        st.rerun(scope="app")  # the last frame: stop the timer


def replay(run_id: str) -> None:
    """Replay a running or finished run from its history; runs saved without one say so."""
    st.subheader(_("Replay"))
    steps = history.frame_steps(runs.run_path(run_id))
    if not steps:
        st.caption(_("This run has no replay history: it was trained before runs kept one, or "
                     "its first batch has not finished yet."))
        return
    playing = st.session_state.get("replay_playing") == run_id
    st.button(_("Pause") if playing else _("Play"), key="replay_play",
              icon=":material/pause:" if playing else ":material/play_arrow:",
              on_click=_replay_play, args=(run_id,))
    st.fragment(replay_panel, run_every=REPLAY_EVERY if playing else None)(run_id)


# ------------------------------------------------------------------------- past runs

def compare(reg: jobs.Registry, ids: list[str]) -> None:
    chosen = st.multiselect(_("Runs on one chart (e.g. Adam vs SGD vs Adadelta)"), ids,
                            default=ids[:min(3, len(ids))], format_func=results.run_label,
                            key="compare")
    series = results.comparison_series(chosen, reg.live_snapshot)
    if series:
        chart(charts.comparison_figure(series), "compare_chart")


def ensemble(ids: list[str]) -> None:
    members = st.multiselect(_("Finished runs to average"), ids, format_func=results.run_label,
                             key="ensemble")
    if not members:
        return
    outcome = results.ensemble(members)
    if outcome["skipped"]:
        st.caption(_("Left out: not evaluated yet (open them first), or trained on another "
                     "data set than the first: {runs}", runs=", ".join(outcome["skipped"])))
    if outcome["members"]:
        st.dataframe(results.ensemble_rows(outcome), key="ensemble_table", hide_index=True,
                     column_config=headers(results.ensemble_rows(outcome)))
        st.metric(_("Ensemble of {count} (average of the softmax outputs, {total} test "
                    "pictures)", count=len(outcome["members"]), total=f"{outcome['n']:,}"),
                  f"{outcome['accuracy']:.2%}")


def past_runs(reg: jobs.Registry) -> None:
    st.divider()
    st.subheader(_("Past runs"))
    table = results.saved_runs_table()
    if not table:
        st.caption(_("No saved runs yet."))
        return
    shown = [{**row, "data": _(row["data"]), "network": _(row["network"]),
              "status": texts.status_word(row["status"])} for row in table]
    st.dataframe(shown, key="past_runs", hide_index=True, column_config=headers(table))
    ids = [row["run"] for row in table]
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    reopen = c1.selectbox(_("Reopen a run"), ids, format_func=results.run_label, key="reopen")
    if c2.button(_("Open"), icon=":material/folder_open:", key="open_run") and reopen:
        st.query_params["job"] = reopen
        st.rerun()
    compare_tab, ensemble_tab = st.tabs([_("Compare runs"), _("Ensemble")])
    with compare_tab:
        compare(reg, ids)
    with ensemble_tab:
        ensemble(ids)


def main() -> None:
    reg = registry()
    reg.poll()
    st.title(_("Live Training"))
    st.caption(_("Train a CNN on digits, clothes, colour photos or your own pictures and watch "
                 "it learn. Each run trains in its own process; up to {slots} run at once on "
                 "this server, later ones wait their turn.", slots=reg.max_runs))
    if isinstance(reg, backends.Unreachable):
        st.error(reg.problem)
    new_run(reg)
    job_id = st.query_params.get("job")
    job = reg.get(job_id) if job_id else None
    saved = results.saved_run(job_id) if job_id else None
    if job_id and job is None and saved is None:
        st.warning(_("There is no run with the id in the address; start a new one above."))
    if job is not None:
        watch(job)
    if saved is not None and (job is None or not job.active):
        finished_run(saved, job)
    if job is not None or saved is not None:
        replay(job_id)
    past_runs(reg)


main()
