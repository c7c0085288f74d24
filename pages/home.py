"""Home: the CNN pipeline of the course in one picture, and a link to each lab."""
from pathlib import Path

import streamlit as st

from playground.charts.home import pipeline_figure
from playground.core import network
from playground.i18n import N_, _, current_language, link_query
from playground.shape_lab.settings import DEFAULT_PRESET as PRESET  # the course's network

HERE = Path(__file__).resolve().parent
# Texts marked with N_ here and translated with _ where they are shown (the language is the
# session's, known only when the page runs).
LABS = [
    (HERE / "shape_lab.py", N_("Shape Lab"), ":material/straighten:",
     N_("Image size, kernel, stride, padding, dilation → output shape, the formula "
        "(N − F + 2P)/S + 1, padding per side, parameter count, a sliding-window animation, "
        "and whole networks layer by layer.")),
    (HERE / "filter_lab.py", N_("Filter Lab"), ":material/filter_b_and_w:",
     N_("Put edge, curve and classic image kernels on your own photo, then ReLU and pooling; "
        "pick any output pixel to see exactly how its number is made.")),
    (HERE / "backprop.py", N_("Backprop by hand"), ":material/undo:",
     N_("Follow one convolution backwards: the loss, its gradient for every weight, input "
        "and bias, one SGD step and the new loss, number by number.")),
    (HERE / "training.py", N_("Live Training"), ":material/monitoring:",
     N_("Train a CNN on MNIST, Fashion-MNIST, CIFAR-10 or your own pictures and watch loss, "
        "accuracy, filters and activations update live; replay the run, then test, compare "
        "and export the model.")),
    (HERE / "inspector.py", N_("Model Inspector"), ":material/biotech:",
     N_("Draw a digit and follow it through every layer of a trained network: feature maps, "
        "filters, probabilities, saliency and Grad-CAM.")),
]


@st.cache_resource
def course_pipeline(language: str):
    """The same static figure for every visitor in ``language``: built once per server and
    language, not per rerun."""
    return pipeline_figure(network.pipeline_stages(network.PRESETS[PRESET]))


def pipeline_section():
    st.subheader(_("The pipeline of a CNN"))
    st.caption(_("The course's MNIST network, {preset}. Each arrow carries the shape "
                 "(height × width × channels) that flows along it.", preset=_(PRESET)))
    st.plotly_chart(course_pipeline(current_language()), key="pipeline",
                    config={"displayModeBar": False, "staticPlot": True})


def course_link():
    with st.container(border=True):
        st.page_link(HERE / "course.py", label=_("New to CNNs? Start the course"),
                     icon=":material/school:", query_params=link_query())
        st.caption(_("Fifteen short lessons in the lecture notes' order, from why convolution "
                     "to looking inside a trained network. Each runs the notes' example live, "
                     "shows their TensorFlow 1 code beside Keras, and ends with a task that "
                     "ticks itself when you solve it."))


LABS_PER_ROW = 3   # five cards in two rows: narrow columns would wrap the titles


def lab_links():
    st.subheader(_("Labs"))
    for start in range(0, len(LABS), LABS_PER_ROW):
        row = LABS[start:start + LABS_PER_ROW]
        for column, (path, title, icon, text) in zip(st.columns(LABS_PER_ROW), row):
            with column.container(border=True, height="stretch"):
                st.page_link(path, label=_(title), icon=icon, query_params=link_query())
                st.caption(_(text))


st.title(_("CNN Playground"))
st.markdown(_(
    "A visual playground for **convolutional neural networks**. Change a number and see what "
    "it does: to a shape, to a photo, to a network learning to read handwritten digits."))
course_link()
pipeline_section()
lab_links()
