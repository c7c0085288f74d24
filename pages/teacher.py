"""Teacher: every run on this server or cluster, live — the learner's name, network, data set,
progress, accuracy — a leaderboard per data set, open any run, stop a run.

Only in the navigation when $PLAYGROUND_TEACHER_PASSWORD is set; behind the password even if
its address is typed. Thin page: the gate is playground.teacher.access, the rows and the
actions playground.teacher.board (every action takes the session's teacher token).
"""
import secrets

import streamlit as st

from playground.datasets.registry import REGISTRY
from playground.i18n import N_, _
from playground.teacher import access, board
from playground.training import backends, texts

REFRESH = 2.0  # seconds between refreshes of the board
TRAINING = "pages/training.py"
MEASURED = {"test": N_("test set"), "validation": N_("validation set"),
            "training": N_("training set")}


def desk() -> board.TeacherDesk:
    return board.TeacherDesk(backends.shared_registry(), access.gate())


def session_id() -> str:
    """A key per browser session for slowing down its failed attempts."""
    return st.session_state.setdefault("teacher_session", secrets.token_hex(8))


def try_login() -> None:
    """The form's callback: check the password, then blank the box (the password is kept in
    no widget state, no address, no log)."""
    password = st.session_state.get("teacher_password", "")
    st.session_state["teacher_password"] = ""
    token, wait = access.gate().login(password, session_id())
    if token:
        st.session_state["teacher_token"] = token
    else:
        st.session_state["teacher_wait"] = wait


def login() -> None:
    """The password form."""
    with st.form("teacher_login", border=False):
        st.text_input(_("Teacher's password"), type="password", key="teacher_password")
        st.form_submit_button(_("Open the teacher's view"), type="primary", on_click=try_login)
    wait = st.session_state.pop("teacher_wait", None)
    if wait is not None:
        st.error(_("Wrong password, or too many attempts: try again in {seconds} s.",
                   seconds=f"{max(wait, 1):.0f}"))


def dataset_title(name: str) -> str:
    return _(REGISTRY[name].title) if name in REGISTRY else _("Your own pictures")


def table_rows(rows: list[board.RunRow]) -> list[dict]:
    return [{_("Learner"): r["learner"] or "–", _("Network"): r["network"],
             _("Data set"): dataset_title(r["dataset"]),
             _("State"): texts.status_word(r["state"]), _("Progress"): r["progress"],
             _("Accuracy"): r["accuracy"], _("Measured on"): _(MEASURED[r["measured_on"]])
             if r["measured_on"] in MEASURED else "", _("Device"): r["device"],
             _("Run"): r["run_id"]} for r in rows]


def board_view(token: str) -> None:
    cluster = backends.shared_registry()
    if isinstance(cluster, backends.Unreachable):
        st.error(cluster.problem)
    try:
        rows = desk().rows(token)
    except PermissionError:
        st.session_state.pop("teacher_token", None)
        st.rerun(scope="app")
    live = [r for r in rows if r["live"]]
    st.markdown(_("**{live}** runs training or waiting, **{total}** in all.",
                  live=len(live), total=len(rows)))
    progress, accuracy = _("Progress"), _("Accuracy")
    config = {progress: st.column_config.ProgressColumn(progress, min_value=0.0,
                                                        max_value=1.0, format="percent"),
              accuracy: st.column_config.NumberColumn(accuracy, format="percent")}
    st.dataframe(table_rows(rows), key="teacher_runs", hide_index=True, column_config=config,
                 height=min(38 + 35 * max(len(rows), 1), 520))
    st.subheader(_("Leaderboards (test accuracy)"))
    boards = board.leaderboards(rows)
    if not boards:
        st.caption(_("No run has been tested yet."))
    for name, ranked in boards.items():
        st.markdown(f"**{dataset_title(name)}**")
        st.dataframe([{_("Rank"): i, _("Learner"): r["learner"] or "–",
                       _("Network"): r["network"], accuracy: r["accuracy"],
                       _("Run"): r["run_id"]} for i, r in enumerate(ranked, start=1)],
                     key=f"board_{name}", hide_index=True, column_config=config)


def actions(token: str) -> None:
    rows = desk().rows(token)
    ids = [r["run_id"] for r in rows]
    if not ids:
        return
    names = {r["run_id"]: f"{r['run_id']} — {r['learner'] or '–'} ({r['network']})"
             for r in rows}
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    picked = c1.selectbox(_("A run"), ids, format_func=names.get, key="teacher_pick")
    if c2.button(_("Open"), icon=":material/open_in_new:", key="teacher_open"):
        st.switch_page(TRAINING, query_params={"job": picked})
    if c3.button(_("Stop"), icon=":material/stop:", key="teacher_stop"):
        try:
            stopped = desk().stop(token, picked)
        except PermissionError:
            st.session_state.pop("teacher_token", None)
            st.rerun()
        if stopped:
            st.success(_("Stopping {run}; its model is saved.", run=picked))
        else:
            st.info(_("{run} is not training.", run=picked))


def main() -> None:
    st.title(_("Teacher"))
    if not access.enabled():
        st.info(_("The teacher's view is off on this server (no teacher password is set)."))
        return
    token = st.session_state.get("teacher_token")
    if not access.gate().valid(token):
        st.caption(_("Every run of the class, live. Give the teacher's password."))
        login()
        return
    st.caption(_("Every run of the class, live (refreshed every {seconds} s).",
                 seconds=f"{REFRESH:g}"))
    actions(token)
    st.fragment(board_view, run_every=REFRESH)(token)
    if st.button(_("Log out"), key="teacher_logout"):
        access.gate().logout(token)
        st.session_state.pop("teacher_token", None)
        st.rerun()


main()
