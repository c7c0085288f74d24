"""Filter Lab: edge and curve filters on your own pictures, and how each output number is made.

Widgets and layout only: decoding is playground.datasets.images, the maths
playground.core.filters and playground.filter_lab.pipeline, the settings' rows
playground.filter_lab.settings, the course's examples playground.filter_lab.course, the figures
playground.charts.filter_lab. No TensorFlow here.
"""
import streamlit as st

from playground.charts import filter_lab as charts
from playground.core import filters
from playground.datasets import images
from playground.filter_lab import course, pipeline
from playground.filter_lab import settings as lab_settings
from playground.i18n import N_, _, message_of, shown

PROPS = lab_settings.PROPS
PICTURE_HEIGHT = 360
CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
# Session-state keys of the link's settings (the widgets' keys).
LINK_KEYS = {"filter": "fl_filters", "picture": "fl_sample", "colour": "fl_colour",
             "stride": "fl_stride", "padding": "fl_padding", "relu": "fl_relu",
             "pool": "fl_pool"}


# cache_resource, not cache_data: a decoded photo is shared as is (read-only pixels) instead of
# being pickled and copied on every rerun. Uploads are keyed by Streamlit's file id.
@st.cache_resource(max_entries=4, ttl=3600, show_spinner=False)
def load_upload(file_id: str, name: str, _data: bytes) -> images.Picture:
    return images.load(_data, name)


@st.cache_resource(max_entries=12, show_spinner=False)
def load_sample(title: str) -> images.Picture:
    return images.load_sample(title)


def _init_state():
    """The link's settings into the widgets, once per session (a bad value warns)."""
    if st.session_state.get("fl_initialised"):
        return
    st.session_state.fl_initialised = True
    link, messages = lab_settings.from_query(st.query_params.to_dict(),
                                             st.query_params.get_all("filter"))
    for message in messages:
        st.warning(message)
    for name, key in LINK_KEYS.items():
        st.session_state[key] = link[name]


def _name(name: str) -> str:
    """A filter's or picture's display name: the link value translated ("Sobel x (vertical
    edges) · R" -> its translation, the channel letter kept)."""
    base, sep, channel = name.partition(" · ")
    return _(base) + sep + channel


# Options that are link values, shown in words (SAME / VALID stay); the widgets' format_func
# is i18n.shown, which fixes the language when the widget is made.
PADDING_LABELS = {"same": "SAME", "valid": "VALID", "pixels": N_("pixels per side")}
POOL_LABELS = {"none": N_("none"), "max": N_("max"), "avg": N_("avg"), "min": N_("min")}
SOURCE_LABELS = {"Bundled": N_("Bundled"), "Upload": N_("Upload")}
START_LABELS = {"zeros": N_("zeros")}


def _padding_label(value: str) -> str:
    return _(PADDING_LABELS.get(value, value))


def _pool_label(value: str) -> str:
    return _(POOL_LABELS.get(value, value))


def _set_filters(names):
    st.session_state.fl_filters = list(names)


def _save_query(settings: pipeline.LabSettings):
    link = {name: st.session_state.get(key, PROPS[name].default)
            for name, key in LINK_KEYS.items()}
    link.update(filter=settings.kernels, colour=settings.colour, stride=settings.stride,
                relu=settings.relu, pool=settings.pool_mode)
    st.query_params.update(lab_settings.to_query(link))


def picture_controls():
    st.radio(_("Picture"), ["Bundled", "Upload"], horizontal=True, key="fl_source",
             format_func=shown(SOURCE_LABELS))
    picture, problem = None, None
    if st.session_state.fl_source == "Upload":
        upload = st.file_uploader(
            _("Upload a picture (PNG, JPEG, WebP, GIF, BMP, TIFF)"), key="fl_upload",
            max_upload_size=images.MAX_BYTES // 2**20,
            help=_("Up to {megabytes} MB and {megapixels} megapixels. EXIF rotation is "
                   "applied, transparency is put on white.",
                   megabytes=images.MAX_BYTES // 2**20, megapixels=images.MAX_PIXELS // 10**6))
        if upload is not None:
            try:
                picture = load_upload(upload.file_id, upload.name, upload.getvalue())
            except images.ImageError as error:
                problem = str(error)
    else:
        st.selectbox(_("Bundled picture"), PROPS["picture"].choices, key="fl_sample",
                     format_func=shown())
    default = PROPS["picture"].default
    if picture is None:
        picture = load_sample(st.session_state.get("fl_sample", default)
                              if st.session_state.fl_source == "Bundled" else default)
    st.select_slider(_("Working resolution (longest side, px)"), PROPS["working"].choices,
                     value=PROPS["working"].default, key="fl_working",
                     help=_(PROPS["working"].help))
    return picture, problem


def filter_controls():
    st.multiselect(_("Filters (several make a stack of feature maps)"),
                   lab_settings.FILTER_OPTIONS, key="fl_filters", format_func=shown())
    a, b = st.columns(2)
    # Short labels: the two buttons share the narrow controls column.
    a.button(_("Course filters"), on_click=_set_filters, args=(lab_settings.COURSE_SET,),
             width="stretch", help=_("The course's two 5×5 edge filters (vertical and "
                                     "horizontal edges) and its 7×7 curve detector."))
    b.button(_("Sobel x + y"), on_click=_set_filters, args=(lab_settings.SOBEL_SET,),
             width="stretch")
    custom = None
    normalize = False
    using_custom = pipeline.CUSTOM in st.session_state.fl_filters
    with st.expander(_("Custom kernel editor"), expanded=using_custom):
        c1, c2 = st.columns(2)
        height = c1.number_input(_("Rows"), value=PROPS["custom_h"].default, key="fl_custom_h",
                                 **PROPS["custom_h"].widget_range())
        width = c2.number_input(_("Columns"), value=PROPS["custom_w"].default,
                                key="fl_custom_w", **PROPS["custom_w"].widget_range())
        start = st.selectbox(_("Start from"), ["zeros"] + list(filters.KERNELS), index=0,
                             key="fl_custom_start",
                             format_func=shown({**START_LABELS,
                                                **{name: name for name in filters.KERNELS}}))
        normalize = st.checkbox(_("Normalise (weights sum to 1; for zero-sum kernels the "
                                  "positive weights do)"), key="fl_normalize")
        if using_custom:
            base = None if start == "zeros" else pipeline.kernel_rows(filters.KERNELS[start])
            rows = pipeline.resize_rows(base, height, width)
            custom = st.data_editor(rows, key=f"fl_custom_{height}x{width}_{start}",
                                    hide_index=True, width="stretch")
        else:
            # The weights grid only while the kernel is in use: the grid's code (~1 MB of
            # JavaScript) would otherwise load with every new tab and hold up its first paint.
            st.button(_("Use a custom kernel"), key="fl_custom_use", on_click=_set_filters,
                      args=(list(st.session_state.fl_filters) + [pipeline.CUSTOM],),
                      icon=":material/edit:")
    return custom, normalize


def layer_controls():
    c1, c2 = st.columns(2)
    stride = c1.number_input(_("Stride"), key="fl_stride", **PROPS["stride"].widget_range())
    mode = c2.selectbox(_("Padding"), PROPS["padding"].choices, key="fl_padding",
                        help=_(PROPS["padding"].help), format_func=shown(PADDING_LABELS))
    padding = mode
    if mode == "pixels":
        padding = int(st.number_input(_("Padding pixels per side"),
                                      value=PROPS["pad_px"].default, key="fl_pad_px",
                                      **PROPS["pad_px"].widget_range()))
    colour = st.selectbox(_("Colour"), PROPS["colour"].choices, key="fl_colour",
                          help=_(PROPS["colour"].help), format_func=shown())
    relu = st.checkbox(_("ReLU (max(0, x))"), key="fl_relu")
    st.markdown("**" + _("Pooling") + "**")
    p1, p2 = st.columns(2)
    pool_mode = p1.selectbox(_("Pooling"), PROPS["pool"].choices, key="fl_pool",
                             label_visibility="collapsed", format_func=shown(POOL_LABELS))
    pool_size = p2.number_input(_("Pool size"), value=PROPS["pool_size"].default,
                                key="fl_pool_size", **PROPS["pool_size"].widget_range())
    p3, p4 = st.columns(2)
    pool_stride = p3.number_input(_("Pool stride"), value=PROPS["pool_stride"].default,
                                  key="fl_pool_stride", **PROPS["pool_stride"].widget_range())
    pool_padding = p4.selectbox(_("Pool padding"), PROPS["pool_padding"].choices,
                                key="fl_pool_padding", format_func=shown(PADDING_LABELS))
    return dict(stride=int(stride), padding=padding, colour=colour, relu=relu,
                pool_mode=pool_mode, pool_size=int(pool_size), pool_stride=int(pool_stride),
                pool_padding=pool_padding)


def show_kernels(names, settings):
    kcols = st.columns(min(len(names), 4))
    for i, name in enumerate(names):
        with kcols[i % len(kcols)]:
            st.plotly_chart(charts.kernel_figure(pipeline.base_kernel(name, settings),
                                                 _name(name)),
                            key=f"fl_fig_kernel_{i}", config=CONFIG, width="content")
    if settings.colour == pipeline.RGB_SUM:
        st.caption(_("3-channel filter: the same weights on R, G and B, summed (kh×kw×3)."))
    if len({pipeline.base_kernel(n, settings).shape for n in names}) > 1:
        st.caption(_("Filters of different sizes are centred in zeros to the largest size, as "
                     "one conv layer holds them."))


def show_results(picture, result, settings):
    shapes = result.shapes()
    names = result.filter_names
    focus = 0
    if len(names) > 1:
        focus = st.selectbox(_("Filter shown in detail"), range(len(names)),
                             format_func=[_name(name) for name in names].__getitem__,
                             key="fl_focus")
        focus = min(focus, len(names) - 1)
    each_rgb = settings.colour == pipeline.EACH_RGB
    photo_like = each_rgb and pipeline.keeps_brightness(result.kernels[result.groups[focus][0]])
    response = result.picture("response", focus)
    top = st.columns(2)
    bottom = st.columns(2)
    # Drawn after the pixel is picked (show_arithmetic), with its receptive field outlined.
    input_slot = top[0].empty()
    with top[1]:
        event = st.plotly_chart(
            charts.picture_figure(response, _("Response: {name}", name=_name(names[focus])),
                                  colour=each_rgb,
                                  signed=True, height=PICTURE_HEIGHT, pickable=not each_rgb,
                                  photo_like=photo_like),
            key="fl_fig_response", on_select="rerun", selection_mode="points", config=CONFIG)
    with bottom[0]:
        st.plotly_chart(charts.picture_figure(result.picture("activated", focus),
                                              _("After ReLU") if settings.relu
                                              else _("No ReLU"),
                                              colour=each_rgb, height=PICTURE_HEIGHT,
                                              photo_like=photo_like),
                        key="fl_fig_relu", config=CONFIG)
    with bottom[1]:
        if result.pooled is not None:
            st.plotly_chart(charts.picture_figure(
                result.picture("pooled", focus),
                _("After {mode} pooling {size}", mode=_pool_label(settings.pool_mode),
                  size=f"{settings.pool_size}×{settings.pool_size}"),
                colour=each_rgb, height=PICTURE_HEIGHT, photo_like=photo_like),
                key="fl_fig_pool", config=CONFIG)
        else:
            st.info(_("Pooling is off."))
    padding = _padding_label(settings.padding) if isinstance(settings.padding, str) \
        else settings.padding
    flow = [_("input {shape}", shape=charts.shape_text(shapes["input"])),
            _("conv {size} stride {stride} padding {padding}",
              size=charts.shape_text(result.kernels[0].shape[:2]), stride=settings.stride,
              padding=padding) + f" → {charts.shape_text(shapes['response'])}",
            "ReLU" if settings.relu else _("no ReLU")]
    if "pooled" in shapes:
        flow.append(_("{mode} pool", mode=_pool_label(settings.pool_mode))
                    + f" → {charts.shape_text(shapes['pooled'])}")
    st.caption(" → ".join(flow) + " · " + _(
        "picture {picture} px, worked on at {working}",
        picture=f"{picture.size[1]}×{picture.size[0]}",
        working=f"{shapes['input'][1]}×{shapes['input'][0]}"))
    if result.kernels[result.groups[focus][0]].min() >= 0:
        st.caption(_("This kernel has no negative weights, so on a picture (every pixel ≥ 0) "
                     "its response is never negative: it is largest where bright pixels line "
                     "up with its pattern — the course's curve detector works this way."))
    show_kernels(names, settings)
    st.download_button(
        _("Download this filter's result at full resolution (PNG)"),
        data=lambda: pipeline.full_resolution_png(picture.pixels, settings, focus),
        file_name="filter_result.png", mime="image/png", key="fl_download",
        icon=":material/download:")

    if result.response.shape[2] > 1 or result.magnitude:
        st.subheader(_("Feature maps"))
        if result.response.shape[2] > 1:
            st.plotly_chart(charts.stack_figure(
                result.activated, [_name(name) for name in result.names],
                _("All filters after ReLU") if settings.relu else _("All filters")),
                key="fl_fig_stack", config=CONFIG)
        for pair, magnitude in result.magnitude.items():
            st.plotly_chart(charts.picture_figure(magnitude, _("Edge magnitude {formula}: "
                                                               "{pair}", formula="√(gx² + gy²)",
                                                               pair=_(pair)),
                                                  height=PICTURE_HEIGHT + 40),
                            key=f"fl_fig_magnitude_{pair}", config=CONFIG)
    return event, focus, input_slot


def show_input(slot, result, window):
    slot.plotly_chart(charts.picture_figure(result.input, _("Input (what the filter sees)"),
                                            colour=result.input.ndim == 3, height=PICTURE_HEIGHT,
                                            window=window),
                      key="fl_fig_input", config=CONFIG)


def show_arithmetic(result, event, focus, input_slot):
    st.subheader(_("How is this number made?"))
    group = result.groups[focus]
    map_index = group[0]
    if len(group) > 1:
        channel = st.radio(_("Channel"), ["R", "G", "B"], horizontal=True,
                           key="fl_explain_channel")
        map_index = group["RGB".index(channel)]
    out_h, out_w = result.response.shape[:2]
    picked = charts.picked_pixel(event, (out_h, out_w)) if event else None
    if picked and picked != st.session_state.get("fl_last_pick"):
        st.session_state.fl_last_pick = picked
        st.session_state.fl_row, st.session_state.fl_col = picked
    for key, limit in (("fl_row", out_h), ("fl_col", out_w)):
        if key not in st.session_state or st.session_state[key] >= limit:
            st.session_state[key] = limit // 2
    c1, c2, c3 = st.columns([1, 1, 3])
    row = c1.number_input(_("Output row"), 0, out_h - 1, key="fl_row")
    col = c2.number_input(_("Output column"), 0, out_w - 1, key="fl_col")
    c3.caption(_("Click the response picture to pick a pixel (clicks snap to a grid; fine-tune "
                 "here)."))
    explained = result.explain(map_index, int(row), int(col))
    show_input(input_slot, result, result.window(map_index, int(row), int(col)))
    st.plotly_chart(charts.arithmetic_figure(explained), key="fl_fig_arith", config=CONFIG)
    st.markdown(_(
        "Output ({row}, {col}) of **{name}** = sum of the element-wise products = **{total}**; "
        "the response map holds {value}. The window starts at row {top}, column {left} of the "
        "padded input ({padded} padded cells).", row=int(row), col=int(col),
        name=_name(result.names[map_index]), total=f"{explained['total']:.6g}",
        value=f"{result.value_at(map_index, int(row), int(col)):.6g}", top=explained["top"],
        left=explained["left"], padded=int(explained["is_pad"].sum())))
    # Inline code, not st.code: no syntax highlighter (~1.5 MB of JavaScript) for one line.
    st.markdown(f"`{pipeline.formula(explained)}`")


def picture_tab():
    controls, results = st.columns([1, 3.4], gap="medium")
    with controls:
        picture, problem = picture_controls()
        custom, normalize = filter_controls()
        layer = layer_controls()
    with results:
        if problem:
            st.error(problem, icon=":material/broken_image:")
            st.caption(_("Showing a bundled picture instead."))
        for note in picture.notes:   # i18n.Later: in this reader's language
            st.caption(_(note))
        names = tuple(st.session_state.fl_filters)
        if not names:
            st.info(_("Pick at least one filter."))
            return
        try:
            settings = pipeline.LabSettings(
                kernels=names, custom=tuple(map(tuple, pipeline.kernel_rows(
                    pipeline.custom_kernel(custom)))) if pipeline.CUSTOM in names else None,
                normalize=normalize, **layer)
            result = pipeline.run(picture.rgb(st.session_state.fl_working), settings)
        except ValueError as error:
            st.error(str(error).splitlines()[0], icon=":material/error:")
            return
        _save_query(settings)
        event, focus, input_slot = show_results(picture, result, settings)
        show_arithmetic(result, event, focus, input_slot)


def toy_tab():
    st.markdown(_(course.TOY_INTRO))
    st.subheader(_("A 3×3 image and a 2×2 kernel"))
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        st.caption(_("Image"))
        image_rows = st.data_editor(course.TOY_IMAGE, key="fl_toy_image", hide_index=True)
    with c2:
        st.caption(_("Kernel (w1 w2 / w3 w4)"))
        kernel_rows = st.data_editor(course.TOY_KERNEL, key="fl_toy_kernel", hide_index=True)
    try:
        image = pipeline.matrix(image_rows)
        kernel = pipeline.matrix(kernel_rows)
        valid = filters.convolve(image, kernel, 1, "valid")
        same = filters.convolve(image, kernel, 1, "same")
    except ValueError as error:
        st.error(str(error))
    else:
        with c3:
            corner = filters.receptive_field(image, kernel.shape, 0, 0)["patch"]
            st.markdown(_("Top-left output, symbolically: {formula}",
                          formula=f"`{pipeline.symbolic(corner)}`"))
        v1, v2 = st.columns(2)
        v1.plotly_chart(charts.matrix_figure(valid, _("VALID (no padding)")),
                        key="fl_toy_valid", config=CONFIG, width="content")
        v2.plotly_chart(charts.matrix_figure(same, _("SAME (zero row/column bottom/right)")),
                        key="fl_toy_same", config=CONFIG, width="content")

    st.subheader(_("Three filters → three feature maps"))
    w1, w2, w3 = st.columns(3)
    weights = [column.number_input(_("Weights of filter {number}", number=i + 1), value=value,
                                   key=f"fl_toy_w{i + 1}")
               for i, (column, value) in enumerate(zip((w1, w2, w3), course.BANK_WEIGHTS))]
    try:
        maps = filters.convolve(pipeline.matrix(image_rows), pipeline.filter_bank(weights))
    except ValueError as error:
        st.error(str(error))
    else:
        m = st.columns(3)
        for i in range(3):
            m[i].plotly_chart(charts.matrix_figure(maps[:, :, i], _(
                "Map {number} (all weights {weight})", number=i + 1, weight=f"{weights[i]:g}")),
                              key=f"fl_toy_map_{i}", config=CONFIG, width="content")
        st.caption(_("Stack shape {shape} (H×W×filters).",
                     shape=charts.shape_text(maps.shape)))

    st.subheader(_("Pooling"))
    choice = st.selectbox(_("Example"), list(course.POOL_EXAMPLES), key="fl_toy_pool_example",
                          format_func=shown())
    rows, mode, size, stride, padding = course.POOL_EXAMPLES[choice]
    p1, p2 = st.columns([1, 2])
    with p1:
        edited = st.data_editor(rows, key=f"fl_toy_pool_{choice}", hide_index=True)
        mode = st.selectbox(_("Mode"), course.POOL_MODES, index=course.POOL_MODES.index(mode),
                            key=f"fl_toy_pool_mode_{choice}", format_func=shown(POOL_LABELS))
    try:
        pooled = filters.pool(pipeline.matrix(edited), size, stride, padding, mode)
    except ValueError as error:
        p2.error(str(error))
    else:
        p2.plotly_chart(charts.matrix_figure(pooled, _(
            "{mode} pool {size}, stride {stride}, {padding}", mode=_pool_label(mode),
            size=f"{size}×{size}", stride=stride, padding=padding.upper())),
                        key="fl_toy_pooled", config=CONFIG, width="content")


def _next_seed():
    st.session_state.fl_mnist_seed = st.session_state.fl_mnist_seed + 1


def mnist_tab():
    st.markdown(_(course.MNIST_INTRO))
    try:
        from playground.datasets import mnist
        _train, (x_test, y_test) = mnist.load_mnist()
    except Exception as error:  # MnistUnavailable, or the loader not there yet
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        st.warning(_("MNIST is not available here: {reason}", reason=reason))
        return
    c1, c2, c3 = st.columns([1, 1, 1])
    index = c1.number_input(_("Test digit #"), 0, len(x_test) - 1, 0, key="fl_mnist_index")
    seed = c2.number_input(_("Seed"), value=PROPS["mnist_seed"].default, key="fl_mnist_seed",
                           **PROPS["mnist_seed"].widget_range())
    c3.button(_("New random filters"), key="fl_mnist_new", on_click=_next_seed)
    out = pipeline.mnist_maps(x_test[int(index)], int(seed), count=course.MNIST_FILTERS)
    a, b, c = st.columns([1, 1, 2])
    a.plotly_chart(charts.picture_figure(out["digit"], _("Digit (label {label})",
                                                         label=int(y_test[int(index)])),
                                         height=300), key="fl_mnist_digit", config=CONFIG)
    count = course.MNIST_FILTERS
    b.plotly_chart(charts.stack_figure(pipeline.kernel_tiles(out["kernels"]),
                                       [f"f{i + 1}" for i in range(count)], _("Filters 3×3"),
                                       height=300, ncols=2), key="fl_mnist_filters",
                   config=CONFIG)
    c.plotly_chart(charts.stack_figure(out["maps"], [_("map {number}", number=i + 1)
                                                     for i in range(count)],
                                       _("Feature maps"), height=300, ncols=count),
                   key="fl_mnist_maps", config=CONFIG)


def main():
    _init_state()
    st.title(_("Filter Lab"))
    st.caption(_("Put edge, curve and classic image kernels on a photo, then ReLU and pooling — "
                 "the numbers are exactly what tf.nn.conv2d and tf.nn.max_pool2d compute. Pick "
                 "any output pixel to see how it is made."))
    # Lazy tabs: only the open tab's code runs (the picture lab is not recomputed while one
    # edits a toy tensor); the open tab is in the URL (?tab=...), so it can be shared too.
    # The tab's label is also its value in the address (st.tabs has no format_func): a label
    # in the other language (a shared link, or the language switched) is put in this one's.
    labels = {tab: _(tab) for tab in PROPS["tab"].choices}
    value = st.session_state.get("tab", st.query_params.get("tab"))
    tab = message_of(value, PROPS["tab"].choices)
    if tab is not None and value != labels[tab]:
        st.session_state["tab"] = st.query_params["tab"] = labels[tab]
    tabs = st.tabs(list(labels.values()), key="tab", bind="query-params", on_change="rerun")
    for tab, draw in zip(tabs, (picture_tab, toy_tab, mnist_tab)):
        if tab.open:
            with tab:
                draw()


main()
