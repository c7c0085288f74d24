"""Course: the lecture notes' topics in order, one lesson each — an explanation, the notes' code
beside its Keras form, a live result with a widget, a task that checks itself, and a link that
opens the same state in a lab.

Widgets and layout only: the lessons (texts, inputs, results, checks) are
playground.course; this page draws any lesson's controls and shown items the same way.
Progress is kept in the session and in the address (?lesson=N&done=1.2.5).
"""
from pathlib import Path

import streamlit as st

from playground.charts.filter_lab import matrix_figure, picture_figure, stack_figure
from playground.charts.home import pipeline_figure
from playground.charts.shape_lab import window_figure
from playground.course import LESSONS
from playground.course import model as course
from playground.i18n import _, link_query
from playground.shape_lab.lab import table_frame

HERE = Path(__file__).resolve().parent
K = "co_"   # session-state prefix of this page
COUNT = len(LESSONS)
CONFIG = {"displayModeBar": False}
ROW_KINDS = ("metric", "matrix")   # shown side by side when they follow each other


def restore_progress() -> None:
    """The session's lesson and ticks, else the address's (bad values: lesson 1, no ticks)."""
    if K + "lesson" not in st.session_state:
        st.session_state[K + "lesson"] = course.lesson_number(
            st.query_params.get("lesson"), COUNT)
        st.session_state[K + "done"] = set(course.done_lessons(
            st.query_params.get("done"), COUNT))
        st.session_state[K + "values"] = {}
    st.session_state[K + "pick"] = st.session_state[K + "lesson"]


def sync_address() -> None:
    """?lesson and ?done follow the session (the other keys, such as ?lang, stay)."""
    wanted = {"lesson": str(st.session_state[K + "lesson"]),
              "done": course.done_text(st.session_state[K + "done"])}
    for key, value in wanted.items():
        if not value:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def go_to(number: int) -> None:
    st.session_state[K + "lesson"] = min(max(int(number), 1), COUNT)


def _picked() -> None:
    go_to(st.session_state[K + "pick"])


def lesson_labels(done: set) -> dict[int, str]:
    # Only a done lesson is marked: the radio's own dot already stands for "not yet".
    return {number: f"{'✓ ' if number in done else ''}{number} · {_(lesson.title)}"
            for number, lesson in enumerate(LESSONS, start=1)}


def overview() -> None:
    """Every lesson with its tick, in the sidebar."""
    labels = lesson_labels(st.session_state[K + "done"])
    with st.sidebar:
        st.radio(_("Lessons"), list(labels), key=K + "pick", format_func=labels.__getitem__,
                 on_change=_picked)


def controls(number: int, lesson: course.Lesson) -> dict:
    """The lesson's widgets (their values kept per lesson while others are open)."""
    saved = st.session_state[K + "values"].setdefault(number, lesson.defaults())
    columns = st.columns(4)   # narrow boxes, also for a lesson with one control
    values = {}
    for i, control in enumerate(lesson.controls):
        key = f"{K}{number}_{control.name}"
        if key not in st.session_state:
            st.session_state[key] = control.clean(saved.get(control.name))
        column = columns[i % len(columns)]
        help_text = _(control.help) if control.help else None
        if control.kind == "choice":
            # Translated now, in this run's language (a format_func may be called later).
            labels = {c: _(control.labels.get(c, str(c))) for c in control.choices}
            column.radio(_(control.label), control.choices, key=key, horizontal=True,
                         format_func=labels.__getitem__, help=help_text)
        elif control.kind == "int":
            column.number_input(_(control.label), min_value=int(control.low),
                                max_value=int(control.high), step=1, key=key, help=help_text)
        else:
            column.number_input(_(control.label), min_value=float(control.low),
                                max_value=float(control.high), step=float(control.step or 0.1),
                                format="%g", key=key, help=help_text)
        values[control.name] = st.session_state[key]
    saved.update(values)
    return lesson.values(values)


def show_item(item: course.Shown, key: str) -> None:
    if item.kind == "metric":
        st.metric(item.title, item.value)
    elif item.kind == "matrix":
        st.plotly_chart(matrix_figure(item.value, item.title, signed=item.extra.get("signed"),
                                      is_pad=item.extra.get("is_pad")),
                        key=key, config=CONFIG, width="content")
    elif item.kind == "markdown":
        st.markdown(item.value)
    elif item.kind == "warning":
        st.warning(item.value)
    elif item.kind == "picture":
        st.plotly_chart(picture_figure(item.value, item.title, height=300), key=key,
                        config=CONFIG)
    elif item.kind == "maps":
        st.plotly_chart(stack_figure(item.value, item.extra.get("labels", []), item.title,
                                     height=300), key=key, config=CONFIG)
    elif item.kind == "window":
        st.plotly_chart(window_figure(item.value, animate=False, height=360), key=key,
                        config=CONFIG)
    elif item.kind == "table":
        st.dataframe(table_frame(item.value), hide_index=True, width="stretch")
    elif item.kind == "pipeline":
        st.caption(item.title)
        st.plotly_chart(pipeline_figure(item.value), key=key,
                        config={"displayModeBar": False, "staticPlot": True})
    elif item.kind == "code":
        st.caption(item.title)
        st.code(item.value, language="python")


def show_outcome(number: int, outcome: course.Outcome) -> None:
    """The shown items in order; runs of metrics or matrices side by side."""
    if outcome.error:
        st.error(outcome.error)
        return
    groups: list[list[course.Shown]] = []
    for item in outcome.shown:
        if groups and item.kind in ROW_KINDS and groups[-1][0].kind == item.kind:
            groups[-1].append(item)
        else:
            groups.append([item])
    index = 0
    for group in groups:
        slots = st.columns(len(group)) if len(group) > 1 else [st.container()]
        for slot, item in zip(slots, group):
            with slot:
                show_item(item, f"{K}{number}_{index}")
            index += 1


def task_box(number: int, lesson: course.Lesson, values: dict) -> None:
    with st.container(border=True):
        st.markdown(_("**Task.** {task}", task=_(lesson.task)))
        if lesson.done(values):
            st.session_state[K + "done"].add(number)
            st.success(_("✓ Done! The check passed."))
        elif number in st.session_state[K + "done"]:
            st.info(_("✓ You did this task before; the settings have changed since."))
        else:
            st.caption(_("Not yet: change the settings above until the check passes."))


def lab_link(lesson: course.Lesson, values: dict) -> None:
    page, query = lesson.lab(values)
    query = link_query(query)
    st.page_link(HERE / f"{page}.py", label=_("Open in the lab: {lab}", lab=_(lesson.lab_title)),
                 icon=":material/open_in_new:", query_params=query)


def steps(number: int) -> None:
    left, _middle, right = st.columns([1, 3, 1])
    left.button(_("← Previous"), key=K + "previous", disabled=number == 1,
                on_click=go_to, args=(number - 1,), width="stretch")
    right.button(_("Next →"), key=K + "next", disabled=number == COUNT,
                 on_click=go_to, args=(number + 1,), width="stretch")


def lesson_view(number: int) -> None:
    lesson = LESSONS[number - 1]
    st.header(f"{number} · {_(lesson.title)}")
    for paragraph in lesson.paragraphs:
        st.markdown(_(paragraph))
    notes, keras = st.columns(2)
    notes.caption(_("The notes' code (TensorFlow 1)"))
    notes.code(lesson.notes_code, language="python", wrap_lines=True)
    keras.caption(_("The same in TensorFlow 2 / Keras"))
    keras.code(lesson.keras_code, language="python", wrap_lines=True)
    st.subheader(_("Try it"))
    values = controls(number, lesson)
    show_outcome(number, lesson.outcome(values))
    task_box(number, lesson, values)
    lab_link(lesson, values)
    steps(number)


def main() -> None:
    restore_progress()
    number = st.session_state[K + "lesson"]
    st.title(_("Course"))
    progress = st.empty()
    lesson_view(number)
    done = st.session_state[K + "done"]
    progress.progress(len(done) / COUNT, text=course.progress_text(done, COUNT))
    overview()
    sync_address()


main()
