"""Shape Lab: what a convolution or pooling layer does to a shape, and a whole network's table.

Widgets and layout only: the numbers come from playground.shape_lab.lab (shapes, filters, network),
the settings' defaults and URL round trip from playground.shape_lab.settings. No TensorFlow here.
"""
from urllib.parse import urlencode

import streamlit as st

from playground.core import network

from playground.shape_lab import settings as shape_settings
from playground.shape_lab import lab
from playground.charts.shape_lab import window_figure

K = "sl_"  # session-state prefix of this page's widgets


def _remember(settings):
    st.session_state[K + "settings"] = dict(settings)


def _sync_query(settings):
    query = shape_settings.to_query(settings)
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)


# --- settings: from this session, else from the link ------------------------------------------
saved = st.session_state.get(K + "settings")
if saved is None:
    saved, messages = shape_settings.from_query(st.query_params.to_dict())
    for message in messages:
        st.warning(message)
    _remember(saved)
for name, value in saved.items():
    # Widgets of a page left via the navigation lose their state; put it back.
    if name not in ("net", "preset") and K + name not in st.session_state:
        st.session_state[K + name] = value

st.title("Shape Lab")
st.caption("Type the numbers of a layer and see what it does to the shape: "
           "the output size, the padding TensorFlow adds, and how many weights it learns.")

INT = dict(step=1, min_value=-100_000, max_value=100_000)


@st.fragment
def layer_sections():
    """Sections 1-3. A fragment: a change here reruns only this part, not the network table
    below (about a third of the page's cost), which keeps the lab quick with many users."""
    st.header("1 · One layer")
    kind_col, *input_cols = st.columns([2, 1, 1, 1])
    kind_col.radio("Layer", shape_settings.KINDS, key=K + "kind", horizontal=True,
                   format_func=shape_settings.KIND_LABELS.get)
    input_cols[0].number_input("Input height H", key=K + "h", **INT)
    input_cols[1].number_input("Input width W", key=K + "w", **INT)
    input_cols[2].number_input("Channels C", key=K + "c", **INT)
    is_conv = st.session_state[K + "kind"] == "conv"
    cols = st.columns(5)
    cols[0].number_input("Kernel height" if is_conv else "Pool height", key=K + "kh", **INT)
    cols[1].number_input("Kernel width" if is_conv else "Pool width", key=K + "kw", **INT)
    cols[2].number_input("Filters", key=K + "filters", disabled=not is_conv,
                         help="Pooling keeps the channels: it has no filters.", **INT)
    cols[3].number_input("Stride (rows)", key=K + "sh", **INT)
    cols[4].number_input("Stride (columns)", key=K + "sw", **INT)
    cols = st.columns([2, 1, 1, 1])
    cols[0].radio("Padding", shape_settings.PADDINGS, key=K + "padding", horizontal=True,
                  format_func={"valid": "VALID", "same": "SAME", "explicit": "pixels per side"}.get,
                  help="VALID: none. SAME (TensorFlow): output = ⌈N / S⌉, the odd pixel goes "
                       "bottom/right. Or a number of zero pixels on every side.")
    cols[1].number_input("Pixels per side P", key=K + "pad",
                         disabled=st.session_state[K + "padding"] != "explicit", **INT)
    cols[2].number_input("Dilation D", key=K + "dilation", disabled=not is_conv,
                         help="Gaps between the kernel's taps: it spans (F − 1)·D + 1 pixels.",
                         **INT)

    # Read afresh: on a fragment rerun the page's top (and its ``saved``) does not run.
    stored = st.session_state[K + "settings"]
    settings = {name: st.session_state.get(K + name, value) for name, value in stored.items()}
    settings["preset"], settings["net"] = stored.get("preset"), stored.get("net")

    try:
        report = lab.layer_report(settings)
    except ValueError as err:
        report = None
        st.error(f"Impossible layer: {lab.explain(err)}")

    if report is not None:
        left, right = st.columns([1, 2])
        left.metric("Output shape H′ × W′ × C′", lab.output_text(report.output_shape),
                    help=f"from an input of {lab.output_text(report.input_shape)}")
        left.markdown(f"**Parameters:** {report.params_text}")
        with right:
            for line in report.formulas:
                st.markdown(line)
            for note in report.notes:
                st.caption(note)

        # --- 2. does it fit --------------------------------------------------------------------
        st.header("2 · Does it fit?")
        for line in report.fit:
            st.warning(line)
        if not report.fit:
            st.success("It fits: the windows cover every row and column of the padded input.")

        # --- 3. sliding window -----------------------------------------------------------------
        st.header("3 · Sliding window")
        hp, wp = report.axes[0].padded, report.axes[1].padded
        cells = report.output_shape[0] * report.output_shape[1]
        if max(hp, wp) > lab.MAX_DRAWN:
            st.info(f"The window is drawn for padded inputs up to "
                    f"{lab.MAX_DRAWN}×{lab.MAX_DRAWN}; this one is {hp}×{wp}. Make the input "
                    "smaller to watch it slide.")
        else:
            cols = st.columns([1, 1, 2])
            cols[0].radio("Input values", shape_settings.IMAGES, key=K + "image", horizontal=True,
                          format_func={"counting": "1, 2, 3, …", "random": "random digits"}.get)
            if is_conv:
                cols[1].radio("Kernel values", shape_settings.WEIGHTS, key=K + "weights", horizontal=True,
                              format_func={"ones": "all ones", "random": "random −1/0/1"}.get)
            if cells > 1:
                st.session_state[K + "pos"] = min(max(st.session_state[K + "pos"], 0), cells - 1)
                cols[2].slider("Window position (output cells in reading order)", 0, cells - 1,
                               key=K + "pos")
            settings.update(image=st.session_state[K + "image"],
                            weights=st.session_state[K + "weights"],
                            pos=st.session_state[K + "pos"])
            win = lab.window(settings, report, settings["pos"])
            a_h, a_w = report.axes
            st.plotly_chart(
                window_figure(win.padded, win.is_pad, win.output, (settings["kh"], settings["kw"]),
                              (settings["sh"], settings["sw"]), a_h.dilation, win.row, win.col,
                              win.used, (a_h.pad_before, a_h.pad_after, a_w.pad_before,
                                         a_w.pad_after), numbered=win.numbered,
                              animate=cells <= lab.MAX_FRAMES, titles=lab.frame_titles(win),
                              height=lab.figure_height(hp), pad_label="0" if is_conv else "–"),
                key=K + "window_chart", width="stretch")
            label = "patch × kernel" if is_conv else ("max of the window" if settings["kind"] ==
                                                       "max" else "average of the window")
            st.markdown(f"**Output row {win.row}, column {win.col}** = {label}: `{win.equation}`")
            if is_conv:
                st.markdown(f"Kernel {settings['kh']}×{settings['kw']}"
                            + (f", dilation {a_h.dilation}" if a_h.dilation > 1 else "")
                            + f": `{lab.kernel_text(win.kernel)}` (rows separated by ;)")
            st.caption("Grey cells are zero padding (pooling ignores them); red-shaded rows and "
                       "columns are never reached by a window. The picture shows one input channel"
                       + (": each filter adds up the products over all C channels, plus its bias."
                          if is_conv else "."))

    _remember(settings)
    _sync_query(settings)


# --- 1-3. one layer, does it fit, the sliding window (a fragment) ----------------------------
layer_sections()

# --- 4. whole network ---------------------------------------------------------------------------
st.header("4 · Whole network")


def _load_preset():
    # Start from the chosen preset: a new editor (new key) over the preset's layers.
    saved = st.session_state[K + "settings"]
    saved.update(preset=st.session_state[K + "preset"], net="")
    st.session_state[K + "net_version"] = st.session_state.get(K + "net_version", 0) + 1


if K + "preset" not in st.session_state:
    st.session_state[K + "preset"] = saved.get("preset") or shape_settings.DEFAULT_PRESET
editor_key = f"{K}editor_{st.session_state.get(K + 'net_version', 0)}"
if editor_key not in st.session_state:
    # First run, a new preset, or back from another page (widget state is gone): rebuild the
    # table from the saved settings, i.e. from the link.
    try:
        base = shape_settings.network_spec(st.session_state[K + "settings"])
        input_shape = network.input_shape_of(base)
    except ValueError as err:
        st.warning(f"Could not open the link's network: {err}")
        base = network.preset(shape_settings.DEFAULT_PRESET)
        input_shape = base["input_shape"]
    st.session_state[K + "net_base"] = base
    st.session_state[K + "net_frame"] = lab.editor_frame(base)
    for i, name in enumerate(("in_h", "in_w", "in_c")):
        st.session_state[K + name] = input_shape[i]
cols = st.columns([3, 1, 1, 1])
cols[0].selectbox("Preset", list(network.PRESETS), key=K + "preset", on_change=_load_preset)
cols[1].number_input("Input H", key=K + "in_h", **INT)
cols[2].number_input("Input W", key=K + "in_w", **INT)
cols[3].number_input("Input C", key=K + "in_c", **INT)
cols = st.columns([5, 1])
cols[0].caption(network.PRESETS[st.session_state[K + "preset"]].get("description", ""))
cols[1].button("Reset table", key=K + "reset", on_click=_load_preset, width="stretch",
               help="Back to the preset's layers and input shape.")

rows = st.data_editor(
    st.session_state[K + "net_frame"], key=editor_key,
    num_rows="dynamic", width="stretch", hide_index=True,
    column_config={
        "type": st.column_config.SelectboxColumn("layer", options=network.LAYER_TYPES,
                                                 required=True),
        "filters": st.column_config.NumberColumn("filters", step=1),
        "size": st.column_config.TextColumn("size", help="kernel or pool size: 3 or 3x5"),
        "stride": st.column_config.TextColumn(
            "stride", help="1, 2 or 2x1; empty on a pooling layer = its pool size"),
        "padding": st.column_config.TextColumn(
            "padding", help="valid, same, or pixels per side (Conv2D only)"),
        "dilation": st.column_config.TextColumn("dilation"),
        "units": st.column_config.NumberColumn("units", step=1),
        "activation": st.column_config.SelectboxColumn(
            "activation", options=["none", "relu", "softmax", "sigmoid", "tanh"]),
        "rate": st.column_config.NumberColumn("dropout rate", step=0.05),
    })
input_shape = [st.session_state[K + n] for n in ("in_h", "in_w", "in_c")]
spec = lab.rows_to_spec(input_shape, rows)
try:
    table, total, problem = lab.network_table(spec)
except ValueError as err:
    table, total, problem = None, 0, f"Input shape: {err}"
if table is not None:
    st.dataframe(lab.table_frame(table), hide_index=True, width="stretch", key=K + "net_table",
                 column_config={"params": st.column_config.NumberColumn(format="localized")})
    st.metric("Total parameters", f"{total:,}")
if problem:
    st.warning(problem)
else:
    with st.expander("Keras code for this network (copy it with the button at its corner)"):
        st.code(network.keras_code(spec), language="python")
    st.link_button("Train this network on MNIST", "training?" + urlencode(
        {"spec": network.to_json(lab.compact_spec(spec))}), icon=":material/monitoring:",
        help="Opens the Live Training page with this layer table as a custom network.")

# --- 5. the link ---------------------------------------------------------------------------------
preset_spec = lab.rows_to_spec(network.PRESETS[st.session_state[K + "preset"]]["input_shape"],
                               lab.spec_to_rows(network.PRESETS[st.session_state[K + "preset"]]))
settings = dict(st.session_state[K + "settings"])
settings["preset"] = st.session_state[K + "preset"]
settings["net"] = "" if spec == preset_spec else network.to_json(lab.compact_spec(spec))
_remember(settings)
_sync_query(settings)
st.caption("The address bar holds every setting of this page: copy the link to share it.")
