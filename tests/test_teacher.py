"""The teacher's view: the password gate (constant-time comparison, failed attempts slowed per
session and globally, tokens), the board's rows and leaderboards, the teacher's actions
refused without a token, and the pages (AppTest): off without a password, the password
form, the board after login, the password in no address or widget state, and a learner's
Training page with a name box and no teacher action."""
from __future__ import annotations

import hmac

import pytest

from playground.core import runs
from playground.teacher import access, board
from playground.training import backends
from tests.helpers import ROOT, app_test

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_right_password_gives_a_token_and_the_comparison_is_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(access.hmac, "compare_digest",
                        lambda a, b: compared.append((a, b)) or real(a, b))
    gate = access.Gate(PASSWORD, clock=Clock())
    token, wait = gate.login(PASSWORD, "s1")
    assert token and wait == 0 and gate.valid(token)
    assert compared == [(PASSWORD.encode(), PASSWORD.encode())]
    assert not gate.valid("a made-up token") and not gate.valid(None)
    gate.logout(token)
    assert not gate.valid(token)


def test_failed_attempts_are_slowed_per_session():
    clock = Clock()
    gate = access.Gate(PASSWORD, clock=clock)
    assert gate.login("guess 1", "s1") == (None, 1.0)
    # While the session waits, even the right password is refused unchecked.
    token, wait = gate.login(PASSWORD, "s1")
    assert token is None and wait == pytest.approx(1.0)
    clock.now += 1.01
    assert gate.login("guess 2", "s1")[1] == pytest.approx(2.0)
    clock.now += 2.01
    assert gate.login("guess 3", "s1")[1] == pytest.approx(4.0)
    assert gate.wait_seconds("another session") == 0
    clock.now += 4.01
    token, wait = gate.login(PASSWORD, "s1")
    assert token and wait == 0
    assert gate.login("guess 1", "s1")[1] == pytest.approx(1.0)  # counting starts again


def test_failed_attempts_are_slowed_globally_across_sessions():
    clock = Clock()
    gate = access.Gate(PASSWORD, clock=clock)
    for n in range(access.GLOBAL_FAILURES):
        gate.login(f"guess {n}", f"session {n}")   # a new session for every guess
        clock.now += 0.5
    token, wait = gate.login(PASSWORD, "a fresh session")
    assert token is None and 0 < wait <= access.GLOBAL_WINDOW
    clock.now += wait + 0.01
    assert gate.login(PASSWORD, "a fresh session")[0]


def test_tokens_expire_and_no_password_means_no_access(monkeypatch):
    clock = Clock()
    gate = access.Gate(PASSWORD, clock=clock)
    token, _ = gate.login(PASSWORD, "s1")
    clock.now += access.TOKEN_HOURS * 3600 + 1
    assert not gate.valid(token)
    closed = access.Gate("", clock=clock)
    assert closed.login("", "s1")[0] is None
    monkeypatch.delenv(access.ENV, raising=False)
    assert not access.enabled()
    monkeypatch.setenv(access.ENV, PASSWORD)
    assert access.enabled()


class FakeJob:
    def __init__(self, run_id):
        self.run_id, self.active, self.stopped = run_id, True, False

    def stop(self):
        self.stopped = True


class FakeRegistry:
    def __init__(self, job):
        self.job = job

    def get(self, run_id):
        return self.job if run_id == self.job.run_id else None

    def jobs(self):
        return []

    def poll(self):
        pass


def test_the_teachers_actions_need_the_token():
    gate = access.Gate(PASSWORD, clock=Clock())
    job = FakeJob(runs.new_run_id())
    desk = board.TeacherDesk(FakeRegistry(job), gate)
    for token in (None, "", "guess", 12):
        with pytest.raises(PermissionError):
            desk.stop(token, job.run_id)
        with pytest.raises(PermissionError):
            desk.rows(token)
    assert not job.stopped
    token, _ = gate.login(PASSWORD, "teacher")
    assert desk.stop(token, job.run_id) and job.stopped
    assert desk.stop(token, "../../etc") is False


def saved(run_id: str, dataset: str, accuracy, learner: str = "", status="finished"):
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    runs.write_json(folder / "settings.json", {"preset": "Fast MNIST CNN", "dataset": dataset,
                                               "epochs": 4})
    record = {"status": status, "epochs_done": 2 if status != "finished" else 4}
    if accuracy is not None:
        record["test_accuracy"] = accuracy
    runs.write_json(folder / "status.json", record)
    board.save_learner(folder, learner)
    return folder


def test_rows_and_leaderboards_from_the_runs_directory():
    saved("20261203-090000-aaaaaa", "mnist", 0.97, "Ji-woo")
    saved("20261203-090100-bbbbbb", "mnist", 0.99, "Min\x00jun\n  Kim")
    saved("20261203-090200-cccccc", "fashion_mnist", 0.88, "")
    saved("20261203-090300-dddddd", "mnist", None, "Seo-yeon", status="running")
    rows = board.all_rows(FakeRegistry(FakeJob("none")))
    assert [r["run_id"][-6:] for r in rows] == ["dddddd", "cccccc", "bbbbbb", "aaaaaa"]
    assert rows[2]["learner"] == "Minjun Kim"   # control characters dropped, spaces joined
    assert rows[0]["live"] and rows[0]["progress"] == 0.5 and rows[0]["accuracy"] is None
    boards = board.leaderboards(rows)
    assert list(boards) == ["fashion_mnist", "mnist"]
    assert [r["learner"] for r in boards["mnist"]] == ["Minjun Kim", "Ji-woo"]
    assert board.clean_name("x" * 100) == "x" * board.MAX_NAME
    assert board.clean_name(None) == ""


# ------------------------------------------------------------------ the pages

def test_without_a_password_there_is_no_teacher_page(monkeypatch):
    monkeypatch.delenv(access.ENV, raising=False)
    assert not app_test().exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_test("teacher")   # not in the navigation
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "pages" / "teacher.py"), default_timeout=60)
    at.run()   # the page itself, opened some other way, says it is off
    assert not at.exception
    assert "off on this server" in at.info[0].value
    assert not at.text_input and not at.dataframe


def test_the_teacher_page_asks_for_the_password_then_shows_every_run(monkeypatch):
    monkeypatch.setenv(access.ENV, PASSWORD)
    # A server of its own: the process-wide backend would still hold the runs that earlier
    # tests in this process started on the Training page (their rows would join the board).
    monkeypatch.setattr(backends, "_SHARED", None)
    saved("20261203-090000-aaaaaa", "mnist", 0.97, "Ji-woo")
    saved("20261203-090100-bbbbbb", "mnist", 0.91, "Ha-eun")
    at = app_test("teacher")
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Teacher's password"]
    assert not at.dataframe and not [b for b in at.button if b.key == "teacher_stop"]

    at.text_input(key="teacher_password").input("wrong guess")
    at.button[0].click()
    at.run()
    assert "Wrong password" in at.error[0].value
    assert not at.dataframe
    assert at.session_state["teacher_password"] == ""   # cleared, kept nowhere

    at.session_state["teacher_session"] = "another session"   # the first one must wait
    at.text_input(key="teacher_password").input(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception and not at.error
    assert "teacher_token" in at.session_state
    assert at.session_state["teacher_password"] == ""
    assert PASSWORD not in repr(dict(at.query_params))
    tables = [d.value for d in at.dataframe]
    assert list(tables[0]["Learner"]) == ["Ha-eun", "Ji-woo"]
    assert list(tables[1]["Learner"]) == ["Ji-woo", "Ha-eun"]   # the MNIST leaderboard
    assert [b.key for b in at.button if b.key in ("teacher_open", "teacher_stop")] == \
        ["teacher_open", "teacher_stop"]


def test_a_learners_training_page_has_a_name_box_and_no_teacher_action(monkeypatch):
    monkeypatch.setenv(access.ENV, PASSWORD)
    at = app_test("training")
    assert not at.exception
    assert at.text_input(key="learner").label == "Your name (optional, for the teacher's view)"
    assert not [b for b in at.button if (b.key or "").startswith("teacher")]
    assert "teacher_token" not in at.session_state
    monkeypatch.delenv(access.ENV)
    at = app_test("training")
    assert not [t for t in at.text_input if t.key == "learner"]
