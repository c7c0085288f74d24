"""Replaying a run (playground/training/history.py, playground/charts/replay.py, the Training
page's Replay section): the history is written by a real training run and bounded, its frames
are the snapshots the live view showed, an old run without one opens, the slider moves."""
from __future__ import annotations

import json

import numpy as np
import pytest

from playground.core import runs
from playground.training import history
from playground.training.snapshot import Activation, Snapshot, batch_log
from tests.helpers import TINY, app_test


class FakeControl:
    """In-process stand-in for the worker's channels (worker.train_run's ``control``)."""

    def paused(self):
        return False

    def stopped(self):
        return False

    def next_command(self):
        return None

    def set_state(self, name):
        pass

    def viewer_gone(self):
        return ""

    def reply(self, text):
        pass


def _snapshot(step: int, steps: int = 50, epochs: int = 4, size: int = 12,
              seed: int = 0, phase: str = "train", deeper: bool = False) -> Snapshot:
    """A snapshot after ``step`` batches with the course-like arrays (one conv layer, and a
    second 3×3×4×6 one when ``deeper``)."""
    rng = np.random.default_rng(seed + step)
    maps = rng.random((size, size, 4), dtype=np.float32)
    kernels = {"conv2d": rng.normal(size=(3, 3, 1, 4)).astype(np.float32)}
    if deeper:
        kernels["conv2d_1"] = rng.normal(size=(3, 3, 4, 6)).astype(np.float32)
    return Snapshot(
        phase=phase, epoch=step // steps, epochs=epochs, batch=step % steps - 1, steps=steps,
        samples_seen=20 * step,
        batch_log=batch_log((i, 20 * i, 1.0 / i, 0.5) for i in range(1, step + 1)),
        conv_kernels=kernels,
        activations=[Activation(name="conv2d", type="Conv2D", shape=maps.shape,
                                min=float(maps.min()), max=float(maps.max()), values=maps)],
        probabilities=rng.dirichlet(np.ones(10)).astype(np.float32))


def _same(frame: history.Frame, snap: Snapshot) -> None:
    assert frame.step == len(snap.batch_log) and frame.samples_seen == snap.samples_seen
    assert list(frame.conv_kernels) == list(snap.conv_kernels)
    for name, kernel in snap.conv_kernels.items():  # float16 on disk: ~3 significant digits
        np.testing.assert_allclose(frame.conv_kernels[name], kernel, rtol=1e-3, atol=1e-4)
    assert [a["name"] for a in frame.activations] == [a["name"] for a in snap.activations]
    for got, shown in zip(frame.activations, snap.activations):
        assert got["shape"] == tuple(shown["shape"])
        assert (got["min"], got["max"]) == (shown["min"], shown["max"])
        np.testing.assert_allclose(got["values"], shown["values"], rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(frame.probabilities, snap.probabilities)


def test_history_is_bounded_by_frames_and_bytes_and_keeps_the_first_and_last(tmp_path):
    passed = []
    recorder = history.Recorder(tmp_path, passed.append, every=1, max_frames=20)
    for step in range(0, 201):
        recorder(_snapshot(step))
    recorder(_snapshot(200, phase="end"))       # the worker's last snapshot: always kept
    steps = history.frame_steps(tmp_path)
    assert len(passed) == 202                       # every snapshot still reaches the page
    assert 10 <= len(steps) <= 20 and steps[0] == 0 and steps[-1] == 200
    assert steps == sorted(set(steps)) and recorder.every > 1
    # By bytes: a frame here is 2·(36 + 576) + 40 = 1,264 bytes; 5 frames' worth allowed.
    small = history.Recorder(tmp_path / "b", every=1, max_bytes=5 * 1264)
    for step in range(0, 100):
        small(_snapshot(step))
    assert len(history.frame_steps(tmp_path / "b")) <= 5
    assert history.frame_bytes(_snapshot(3)) == 1264


def test_default_bound_holds_for_a_long_run_and_is_what_the_readme_says(tmp_path):
    recorder = history.Recorder(tmp_path)
    for step in range(0, 2001, 3):      # snapshots every few batches, 2,000 batches in all
        recorder(_snapshot(step, steps=500, epochs=4))
    recorder(_snapshot(2000, steps=500, epochs=4, phase="end"))
    steps = history.frame_steps(tmp_path)
    assert len(steps) <= history.MAX_FRAMES and steps[-1] == 2000
    assert len(steps) * history.frame_bytes(_snapshot(1)) <= history.MAX_BYTES
    assert 0 < history.history_bytes(tmp_path) <= history.MAX_BYTES


def test_a_frame_reads_back_as_the_snapshot_it_kept(tmp_path):
    snap = _snapshot(37)
    history.Recorder(tmp_path, every=1)(snap)
    _same(history.load_frame(tmp_path, 37), snap)
    assert history.load_frame(tmp_path, 38) is None      # gone or never written: None
    (history.folder_of(tmp_path) / "000000039.npz").write_bytes(b"not a zip")
    assert history.load_frame(tmp_path, 39) is None


def test_a_training_run_writes_frames_that_match_its_live_snapshots():
    from playground.training import settings as training_settings
    from playground.training import worker

    settings = training_settings.normalize_settings(dict(
        preset=training_settings.CUSTOM, spec=TINY, train_examples=200, epochs=2,
        batch_size=10, validation_split=0.0, seed=3, test_examples=50,
        snapshot_interval=0.05, learning_rate=0.01))
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    shown: list[Snapshot] = []
    status = worker.train_run(run_id, settings, shown.append, FakeControl())
    assert status["status"] == "finished"
    steps = history.frame_steps(folder)
    live = {len(s.batch_log): s for s in shown if s.started and s.phase != "testing"}
    # 40 batches, a frame due every batch (40 / 100 rounds up to 1): one per live snapshot,
    # from before the first batch to the end.
    assert steps[0] == 0 and steps[-1] == 40 and len(steps) >= 3
    assert set(steps) == set(live)
    for step in steps:
        _same(history.load_frame(folder, step), live[step])
    # Training changed the filters between the first and the last frame.
    first, last = history.load_frame(folder, 0), history.load_frame(folder, 40)
    assert not np.allclose(first.conv_kernels["conv2d"], last.conv_kernels["conv2d"])


def _saved_run(with_history: bool, deeper: bool = False) -> str:
    from tests.helpers import TINY_PRESET
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    runs.write_json(folder / "settings.json", {"preset": TINY_PRESET, "epochs": 4,
                                               "probe_index": 0})
    runs.write_json(folder / "status.json", {"status": "finished"})
    rows = "\n".join(f"{i},{20 * i},{1.0 / i},0.5" for i in range(1, 201))
    runs.atomic_write_text(folder / "batches.csv", "step,samples_seen,loss,accuracy\n" + rows)
    if with_history:
        recorder = history.Recorder(folder, every=50)
        for step in range(0, 201):
            recorder(_snapshot(step, deeper=deeper))
    return run_id


def _marker_x(at) -> float:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("uirevision") == "replay_curves":
            return spec["layout"]["shapes"][0]["x0"]
    raise AssertionError("no replay curves chart")


def test_an_old_run_without_history_opens_and_says_so():
    at = app_test("training", query={"job": _saved_run(with_history=False)})
    assert not at.exception, [e.value for e in at.exception]
    assert any("no replay history" in c.value for c in at.caption)


def test_moving_the_slider_shows_that_moment():
    at = app_test("training", query={"job": _saved_run(with_history=True)})
    assert not at.exception, [e.value for e in at.exception]
    slider = next(s for s in at.slider if s.key and s.key.startswith("replay_frame_"))
    assert slider.value == 4 and slider.max == 4      # frames at 0, 50, 100, 150, 200
    assert _marker_x(at) == 20 * 200
    slider.set_value(1).run()
    assert not at.exception
    assert _marker_x(at) == 20 * 50
    assert any("After 50 batches" in c.value for c in at.caption)


def test_play_steps_through_the_frames_to_the_end():
    at = app_test("training", query={"job": _saved_run(with_history=True)})
    at.button(key="replay_play").click().run()     # at the end: Play starts from frame 0
    assert _marker_x(at) == 0
    seen = []
    for _ in range(6):                              # run_every does not fire in AppTest
        at.run()
        seen.append(_marker_x(at))
    assert seen[:4] == [1000, 2000, 3000, 4000] and not at.exception
    assert at.button(key="replay_play").label == "Play"   # stopped by itself at the end


@pytest.mark.parametrize("lang, title", [("ko", "다시 보기")])
def test_replay_in_korean(lang, title):
    at = app_test("training", query={"job": _saved_run(with_history=True), "lang": lang})
    assert not at.exception
    assert title in [s.value for s in at.subheader]


def _filters_chart(at) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("uirevision") == "replay_filters":
            return spec
    raise AssertionError("no replay filters chart")


def test_a_deeper_conv_layers_filters_can_be_replayed():
    run_id = _saved_run(with_history=True, deeper=True)
    at = app_test("training", query={"job": run_id})
    assert not at.exception, [e.value for e in at.exception]
    picker = at.get("button_group")
    conv = next(p for p in picker if p.proto.id and "replay_conv" in p.proto.id)
    first = _filters_chart(at)
    assert "first-layer filters after 200 batches" in first["layout"]["title"]["text"]
    frame = history.load_frame(runs.run_path(run_id), 200)
    assert conv is not None and list(frame.conv_kernels) == ["conv2d", "conv2d_1"]
    at.session_state["replay_conv"] = "conv2d_1"
    at.run()
    assert not at.exception
    deeper = _filters_chart(at)
    assert deeper["layout"]["title"]["text"].startswith(
        "conv2d_1: its filters' weights on input channel 1 after 200 batches")
    assert deeper != first


def test_the_deeper_filters_figure_is_that_layers_weights_on_its_first_channel():
    from playground.charts import replay as replay_charts
    from playground.charts import training as training_charts

    snap = _snapshot(7, deeper=True)
    figures = replay_charts.moment_figures(snap, 7, snap.batch_log, [], conv_layer="conv2d_1")
    want = training_charts.filters_figure(snap.conv_kernels["conv2d_1"], 0)
    np.testing.assert_array_equal(np.asarray(figures["filters"].data[0].z, float),
                                  np.asarray(want.data[0].z, float))
    unknown = replay_charts.moment_figures(snap, 7, snap.batch_log, [], conv_layer="nope")
    first = training_charts.filters_figure(snap.conv_kernels["conv2d"], 0)
    np.testing.assert_array_equal(np.asarray(unknown["filters"].data[0].z, float),
                                  np.asarray(first.data[0].z, float))
