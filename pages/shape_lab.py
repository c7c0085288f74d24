"""Shape Lab: what a convolution or pooling layer does to a shape, and a whole network's table.

Widgets and layout only: the numbers come from playground.shape_lab.lab (shapes, filters,
network), the settings' rows and URL round trip from playground.shape_lab.settings. No TensorFlow
here.
"""
import streamlit as st

from playground.charts.shape_lab import window_figure
from playground.core import network
from playground.datasets.registry import REGISTRY
from playground.i18n import _, keep_language, link, shown
from playground.shape_lab import lab, pasted, transposed
from playground.shape_lab import settings as shape_settings
from playground.training import settings as training_settings

K = "sl_"  # session-state prefix of this page's widgets
INT = dict(step=1, min_value=-100_000, max_value=100_000)
PROPS = shape_settings.PROPS


def _remember(settings):
    st.session_state[K + "settings"] = dict(settings)


def _sync_query(settings):
    # The address's ?lang stays: the page rewrites the settings, not the language.
    query = keep_language(shape_settings.to_query(settings), st.query_params.to_dict())
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)


def restore_settings() -> dict:
    """The settings of this session, else of the link (a bad value warns and keeps its
    default); widgets of a page left via the navigation lose their state, so put it back."""
    saved = st.session_state.get(K + "settings")
    if saved is None:
        saved, messages = shape_settings.from_query(st.query_params.to_dict())
        for message in messages:
            st.warning(message)
        _remember(saved)
    for name, value in saved.items():
        if name not in ("net", "preset") and K + name not in st.session_state:
            st.session_state[K + name] = value
    return saved


def layer_inputs() -> bool:
    """Section 1's inputs; True for a convolution."""
    kind_col, *input_cols = st.columns([2, 1, 1, 1])
    kind_col.radio(_("Layer"), PROPS["kind"].choices, key=K + "kind", horizontal=True,
                   format_func=shown(shape_settings.KIND_LABELS))
    input_cols[0].number_input(_("Input height H"), key=K + "h", **INT)
    input_cols[1].number_input(_("Input width W"), key=K + "w", **INT)
    input_cols[2].number_input(_("Channels C"), key=K + "c", **INT)
    kind = st.session_state[K + "kind"]
    is_conv = kind in shape_settings.KERNEL_KINDS
    depthwise = kind in ("depthwise", "separable")
    cols = st.columns(6 if depthwise else 5)
    cols[0].number_input(_("Kernel height") if is_conv else _("Pool height"), key=K + "kh",
                         **INT)
    cols[1].number_input(_("Kernel width") if is_conv else _("Pool width"), key=K + "kw", **INT)
    cols[2].number_input(_("Filters"), key=K + "filters",
                         disabled=not is_conv or kind == "depthwise",
                         help=_("Pooling keeps the channels: it has no filters.")
                         if not is_conv else _("A depthwise convolution has no filters: its "
                                               "output has C·M channels.")
                         if kind == "depthwise" else None, **INT)
    cols[3].number_input(_("Stride (rows)"), key=K + "sh", **INT)
    cols[4].number_input(_("Stride (columns)"), key=K + "sw", **INT)
    if depthwise:
        cols[5].number_input(_("Depth multiplier M"), key=K + "dm", help=_(PROPS["dm"].help),
                             **INT)
    cols = st.columns([2, 1, 1, 1])
    cols[0].radio(_("Padding"), PROPS["padding"].choices, key=K + "padding", horizontal=True,
                  format_func=shown(shape_settings.PADDING_LABELS),
                  help=_(PROPS["padding"].help))
    cols[1].number_input(_("Pixels per side P"), key=K + "pad",
                         disabled=st.session_state[K + "padding"] != "explicit", **INT)
    cols[2].number_input(_("Dilation D"), key=K + "dilation",
                         disabled=st.session_state[K + "kind"] != "conv",
                         help=_(PROPS["dilation"].help), **INT)
    return is_conv


def current_settings() -> dict:
    # Read afresh: on a fragment rerun the page's top (and what it restored) does not run.
    stored = st.session_state[K + "settings"]
    settings = {name: st.session_state.get(K + name, value) for name, value in stored.items()}
    settings["preset"], settings["net"] = stored.get("preset"), stored.get("net")
    return settings


def layer_result(report: lab.LayerReport):
    left, right = st.columns([1, 2])
    left.metric(_("Output shape H′ × W′ × C′"), lab.output_text(report.output_shape),
                help=_("from an input of {shape}", shape=lab.output_text(report.input_shape)))
    left.markdown(_("**Parameters:** {text}", text=report.params_text))
    with right:
        for line in report.formulas:
            st.markdown(line)
        for note in report.notes:
            st.caption(note)


def fit_section(report: lab.LayerReport):
    st.header(_("2 · Does it fit?"))
    for line in report.fit:
        st.warning(line)
    if not report.fit:
        st.success(_("It fits: the windows cover every row and column of the padded input."))


def window_inputs(is_conv: bool, cells: int):
    cols = st.columns([1, 1, 2])
    cols[0].radio(_("Input values"), PROPS["image"].choices, key=K + "image",
                  horizontal=True, format_func=shown(shape_settings.IMAGE_LABELS))
    if is_conv:
        cols[1].radio(_("Kernel values"), PROPS["weights"].choices, key=K + "weights",
                      horizontal=True, format_func=shown(shape_settings.WEIGHT_LABELS))
    if cells > 1:
        st.session_state[K + "pos"] = min(max(st.session_state[K + "pos"], 0), cells - 1)
        cols[2].slider(_("Window position (output cells in reading order)"), 0, cells - 1,
                       key=K + "pos")


def window_section(settings: dict, report: lab.LayerReport, is_conv: bool):
    st.header(_("3 · Sliding window"))
    hp, wp = report.axes[0].padded, report.axes[1].padded
    cells = report.output_shape[0] * report.output_shape[1]
    if max(hp, wp) > lab.MAX_DRAWN:
        st.info(_("The window is drawn for padded inputs up to {limit}; this one is "
                  "{size}. Make the input smaller to watch it slide.",
                  limit=f"{lab.MAX_DRAWN}×{lab.MAX_DRAWN}", size=f"{hp}×{wp}"))
        return
    window_inputs(is_conv, cells)
    settings.update(image=st.session_state[K + "image"], weights=st.session_state[K + "weights"],
                    pos=st.session_state[K + "pos"])
    win = lab.window(settings, report, settings["pos"])
    st.plotly_chart(window_figure(win, animate=cells <= lab.MAX_FRAMES,
                                  height=lab.figure_height(hp)),
                    key=K + "window_chart", width="stretch")
    if settings["kind"] == transposed.KIND:
        lines, caption = transposed.window_text(win, settings)
        for line in lines:
            st.markdown(line)
        st.caption(caption)
        return
    label = _("patch × kernel") if is_conv else (
        _("max of the window") if settings["kind"] == "max" else _("average of the window"))
    st.markdown(_("**Output row {row}, column {col}** = {label}: {equation}", row=win.row,
                  col=win.col, label=label, equation=f"`{win.equation}`"))
    if is_conv:
        size = f"{settings['kh']}×{settings['kw']}"
        kernel = f"`{lab.kernel_text(win.kernel)}`"
        st.markdown(_("Kernel {size}, dilation {dilation}: {kernel} (rows separated by ;)",
                      size=size, dilation=win.dilation, kernel=kernel) if win.dilation > 1
                    else _("Kernel {size}: {kernel} (rows separated by ;)", size=size,
                           kernel=kernel))
    st.caption(_("Grey cells are zero padding; red-shaded rows and columns are never reached "
                 "by a window. The picture shows one input channel and one of its own "
                 "kernels: a depthwise step never adds channels together (the bias comes "
                 "after).") if settings["kind"] in ("depthwise", "separable") else
               _("Grey cells are zero padding (pooling ignores them); red-shaded rows and "
                 "columns are never reached by a window. The picture shows one input "
                 "channel: each filter adds up the products over all C channels, plus its "
                 "bias.") if is_conv else
               _("Grey cells are zero padding (pooling ignores them); red-shaded rows and "
                 "columns are never reached by a window. The picture shows one input "
                 "channel."))


@st.fragment
def layer_sections():
    """Sections 1-3. A fragment: a change here reruns only this part, not the network table
    below (about a third of the page's cost), which keeps the lab quick with many users."""
    st.header(_("1 · One layer"))
    is_conv = layer_inputs()
    settings = current_settings()
    try:
        report = lab.layer_report(settings)
    except ValueError as err:
        st.error(_("Impossible layer: {reason}", reason=lab.explain(err)))
    else:
        layer_result(report)
        fit_section(report)
        window_section(settings, report, is_conv)
    _remember(settings)
    _sync_query(settings)


def _load_preset():
    # Start from the chosen preset: a new editor (new key) over the preset's layers.
    saved = st.session_state[K + "settings"]
    saved.update(preset=st.session_state[K + "preset"], net="")
    st.session_state[K + "net_version"] = st.session_state.get(K + "net_version", 0) + 1


def network_inputs(saved: dict) -> str:
    """The preset, input shape and reset button; returns the editor's key."""
    if K + "preset" not in st.session_state:
        st.session_state[K + "preset"] = saved.get("preset") or shape_settings.DEFAULT_PRESET
    editor_key = f"{K}editor_{st.session_state.get(K + 'net_version', 0)}"
    if editor_key not in st.session_state:
        # First run, a new preset, or back from another page (widget state is gone): rebuild
        # the table from the saved settings, i.e. from the link.
        try:
            base = shape_settings.network_spec(st.session_state[K + "settings"])
            input_shape = network.input_shape_of(base)
        except ValueError as err:
            st.warning(_("Could not open the link's network: {error}", error=err))
            base = network.preset(shape_settings.DEFAULT_PRESET)
            input_shape = base["input_shape"]
        st.session_state[K + "net_base"] = base
        st.session_state[K + "net_frame"] = lab.editor_frame(base)
        for i, name in enumerate(("in_h", "in_w", "in_c")):
            st.session_state[K + name] = input_shape[i]
    cols = st.columns([3, 1, 1, 1])
    cols[0].selectbox(_("Preset"), PROPS["preset"].choices, key=K + "preset",
                      on_change=_load_preset, format_func=shown())
    cols[1].number_input(_("Input H"), key=K + "in_h", **INT)
    cols[2].number_input(_("Input W"), key=K + "in_w", **INT)
    cols[3].number_input(_("Input C"), key=K + "in_c", **INT)
    cols = st.columns([5, 1])
    cols[0].caption(lab.preset_description(st.session_state[K + "preset"]))
    cols[1].button(_("Reset table"), key=K + "reset", on_click=_load_preset, width="stretch",
                   help=_("Back to the preset's layers and input shape."))
    return editor_key


def option_labels() -> dict:
    return {"kernel_initializer": _("kernel init"), "bias_initializer": _("bias init"),
            "kernel_regularizer": _("kernel regularizer"),
            "bias_regularizer": _("bias regularizer")}


def option_columns(frame) -> dict:
    """Selectbox columns for the Keras chapter's initializers and regularizers."""
    labels = option_labels()
    return {key: st.column_config.SelectboxColumn(
        labels[key], options=options, width="medium",
        help=_("Conv2D and Dense: how the weights start") if key.endswith("_initializer")
        else _("Conv2D and Dense: a penalty on the weights added to the loss"))
        for key, options in lab.option_choices(frame).items()}


def layer_editor(editor_key: str):
    frame = st.session_state[K + "net_frame"]
    return st.data_editor(
        frame, key=editor_key,
        num_rows="dynamic", width="stretch", hide_index=True,
        column_config={
            # Pinned: it stays in view when the table scrolls to the option columns.
            "type": st.column_config.SelectboxColumn(_("layer"), options=network.LAYER_TYPES,
                                                     required=True, pinned=True),
            "filters": st.column_config.NumberColumn(_("filters"), step=1),
            "size": st.column_config.TextColumn(_("size"),
                                                help=_("kernel or pool size: 3 or 3x5")),
            "stride": st.column_config.TextColumn(
                _("stride"), help=_("1, 2 or 2x1; empty on a pooling layer = its pool size")),
            "padding": st.column_config.TextColumn(
                _("padding"), help=_("valid, same, or pixels per side (Conv2D only)")),
            "dilation": st.column_config.TextColumn(_("dilation")),
            "depth_multiplier": st.column_config.NumberColumn(
                _("depth multiplier"), step=1,
                help=_("DepthwiseConv2D and SeparableConv2D: kernels per input channel")),
            "units": st.column_config.NumberColumn(_("units"), step=1),
            "activation": st.column_config.SelectboxColumn(
                _("activation"), options=["none", *network.ACTIVATIONS[1:]]),
            "rate": st.column_config.NumberColumn(_("dropout rate"), step=0.05),
            **option_columns(frame),
        })


def train_link(dataset: str, spec: dict) -> str:
    """The Live Training page's address with this table as its network, in this language."""
    return link("training", {"dataset": dataset,
                             "spec": network.to_json(lab.compact_spec(spec))})


def network_results(spec: dict):
    try:
        table, total, problem = lab.network_table(spec)
    except ValueError as err:
        table, total, problem = None, 0, _("Input shape: {error}", error=err)
    if table is not None:
        st.dataframe(lab.table_frame(table), hide_index=True, width="stretch",
                     key=K + "net_table",
                     column_config={
                         "layer": st.column_config.TextColumn(_("layer")),
                         "settings": st.column_config.TextColumn(_("settings")),
                         "output shape": st.column_config.TextColumn(_("output shape")),
                         "params": st.column_config.NumberColumn(_("params"), format="localized")})
        st.metric(_("Total parameters"), f"{total:,}")
    if problem:
        st.warning(problem)
        return
    # Drawn only while open: the code block's highlighter is ~1.5 MB of JavaScript that a new
    # tab would otherwise load before its charts.
    code = st.expander(_("Keras code for this network (copy it with the button at its corner)"),
                       key=K + "keras_code", on_change="rerun")
    if code.open:
        code.code(network.keras_code(spec), language="python")
    tf1 = st.expander(_("TensorFlow 1 code for this network, as the notes write it"),
                      key=K + "tf1_code", on_change="rerun")
    if tf1.open:
        tf1.code(pasted.tf1_text(spec), language="python")
    fits, reason = training_settings.datasets_for(spec)
    if not fits:
        st.caption(_("To train this network on a data set: {reason}", reason=reason))
        return
    st.link_button(_("Train this network on {dataset}", dataset=REGISTRY[fits[0]].title),
                   train_link(fits[0], spec), icon=":material/monitoring:",
                   help=_("Opens the Live Training page with this layer table as a custom "
                          "network."))
    if len(fits) > 1:
        st.caption(_("It also fits {datasets} (pick it there).",
                     datasets=", ".join(REGISTRY[name].title for name in fits[1:])))


def _read_code():
    # The pasted code is read (never run); its network replaces the table's: a new editor (new
    # key) over it, as for a preset.
    result = pasted.read_pasted(st.session_state.get(K + "code", ""))
    st.session_state[K + "code_result"] = result
    if result.net is not None:
        st.session_state[K + "settings"].update(net=result.net)
        st.session_state[K + "net_version"] = st.session_state.get(K + "net_version", 0) + 1


def paste_code():
    """"Paste your code": a Keras Sequential model or a TensorFlow 1 layer stack into the table."""
    with st.expander(_("Paste your code: a Keras Sequential model or a TensorFlow 1 layer "
                       "stack")):
        st.text_area(_("Python code (read, never run)"), key=K + "code", height=220,
                     max_chars=pasted.MAX_CHARS,
                     placeholder="model = keras.Sequential()\n"
                                 "model.add(keras.layers.Conv2D(filters=32, kernel_size=3, ...")
        st.button(_("Read the code into the table"), key=K + "read_code", on_click=_read_code)
        result = st.session_state.get(K + "code_result")
        if result is not None and result.error:
            st.error(result.error)
        elif result is not None:
            st.caption(_("Read {count} layers into the table below.", count=result.layers))
            if result.softmax_added:
                st.caption(_("The code's last Dense layer gives logits (its loss applies "
                             "softmax): the table gives it softmax, so that it can be trained "
                             "here. The parameters are the same."))


def network_section(saved: dict) -> dict:
    """Section 4; returns the table's spec."""
    st.header(_("4 · Whole network"))
    paste_code()
    rows = layer_editor(network_inputs(saved))
    st.caption(_("Scroll the table sideways for the Conv2D and Dense layers' initializers and "
                 "regularizers (Keras' defaults: glorot_uniform kernels, zero biases, none)."))
    input_shape = [st.session_state[K + n] for n in ("in_h", "in_w", "in_c")]
    spec = lab.rows_to_spec(input_shape, rows)
    network_results(spec)
    return spec


def save_link(spec: dict):
    """Section 5: the address bar holds the settings, the network as ``net`` unless it is the
    preset's own."""
    preset = network.PRESETS[st.session_state[K + "preset"]]
    preset_spec = lab.rows_to_spec(preset["input_shape"], lab.spec_to_rows(preset))
    settings = dict(st.session_state[K + "settings"])
    settings["preset"] = st.session_state[K + "preset"]
    settings["net"] = "" if spec == preset_spec else network.to_json(lab.compact_spec(spec))
    _remember(settings)
    _sync_query(settings)
    st.caption(_("The address bar holds every setting of this page: copy the link to share "
                 "it."))


saved = restore_settings()
st.title(_("Shape Lab"))
st.caption(_("Type the numbers of a layer and see what it does to the shape: "
             "the output size, the padding TensorFlow adds, and how many weights it learns."))
layer_sections()
save_link(network_section(saved))
