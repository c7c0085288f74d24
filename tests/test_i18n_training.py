"""Live Training and the Model Inspector in Korean: the pages' words, and the lines a training
process or the job poller writes (in English, on disk and across a process pipe) shown in the
session's language.

The English pages are tested in test_training_page.py and test_inspector_page.py (English is
the default there, and those tests keep passing unchanged).
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from playground import i18n
from playground.core import network, runs
from playground.training import texts
from tests.helpers import app_test


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@pytest.fixture
def korean():
    i18n.set_language("ko")
    yield
    i18n.set_language("en")


# --- lines made where no session's language is known -------------------------------------

def _examples() -> dict[str, str]:
    """Every template of texts, formatted as the worker / poller formats it."""
    values = {"seconds": "181", "signal": "SIGKILL", "code": "1", "epoch": "2", "rate": "0.002",
              "value": "-1.0", "kept": texts.NO_MODEL_KEPT,
              "how": texts.KILLED.format(signal="SIGTERM")}
    return {template: template.format(**{name: values.get(name, "node-1")
                                          for name in i18n.placeholders(template)})
            for template in texts.TEMPLATES}


def test_every_worker_line_reads_back_unchanged_in_english():
    i18n.set_language("en")
    for template, line in _examples().items():
        assert texts.shown(line) == line, template


def test_every_worker_line_is_korean_in_a_korean_session(korean):
    for template, line in _examples().items():
        shown = texts.shown(line)
        assert hangul(shown) and shown != line, (template, shown)


def test_a_died_reason_is_translated_with_the_lines_inside_it(korean):
    reason = texts.PROCESS_DIED.format(how=texts.KILLED.format(signal="SIGKILL"),
                                       kept=texts.EPOCH_MODEL_KEPT.format(epoch=3))
    assert texts.shown(reason) == ("학습 프로세스가 시그널 SIGKILL로 종료되었습니다. "
                                   "3번째 에포크가 끝날 때 저장된 모델을 남겼습니다.")
    # A line from no template (an exception's own words) is shown as it is.
    assert texts.shown("ValueError: bad spec") == "ValueError: bad spec"
    assert texts.shown(None) == ""
    assert texts.status_word("stopped") == "중지됨"
    assert texts.status_word("something new") == "something new"


def test_an_exception_that_ended_a_run_is_one_line_under_a_translated_prefix(korean):
    i18n.set_language("en")
    line = texts.failure(ValueError("Input 0 of layer dense is incompatible\nwith the layer"))
    assert line == "training stopped on an error: ValueError: Input 0 of layer dense is " \
        "incompatible"
    assert texts.shown(line) == line
    assert texts.failure(KeyError()) == "training stopped on an error: KeyError"
    oom = type("ResourceExhaustedError", (RuntimeError,), {})("OOM when allocating tensor")
    assert texts.failure(oom) == texts.failure(MemoryError()) == texts.OUT_OF_MEMORY
    i18n.set_language("ko")
    shown = texts.shown(line)
    assert shown.startswith("오류로 학습이 멈췄습니다: ValueError: Input 0 of layer dense")
    assert hangul(texts.shown(texts.OUT_OF_MEMORY))


def test_a_registered_template_is_read_back_too(korean):
    template = "the Ray actor training it on {node} died (its process or node was lost).{kept}"
    line = template.format(node="node-1", kept=texts.LAST_MODEL_KEPT)
    if template in texts._registered:   # a backend registered it already: it must be Korean
        assert hangul(texts.shown(line))
    texts.register(texts.STOPPED_BY_USER)           # registering twice changes nothing
    assert texts._registered.count(texts.STOPPED_BY_USER) == 1


def test_two_sessions_see_the_same_worker_line_each_in_its_own_language():
    line = texts.VIEWER_GONE.format(seconds="181")
    barrier = threading.Barrier(2)
    seen = {}

    def session(language):
        i18n.set_language(language)
        barrier.wait()
        seen[language] = texts.shown(line)

    threads = [threading.Thread(target=session, args=(lang,)) for lang in ("ko", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen["en"] == line
    assert seen["ko"].startswith("181초 동안") and "(viewer time-out)" not in seen["ko"]


# --- the Live Training page ------------------------------------------------------------------

def _labels(at) -> list[str]:
    widgets = [*at.selectbox, *at.number_input, *at.slider, *at.text_area, *at.radio]
    return [w.label for w in widgets]


def test_training_page_in_korean():
    at = app_test("training", timeout=120, query={"lang": "ko"})
    assert not at.exception, at.exception
    assert at.title[0].value == "실시간 학습"
    labels = _labels(at)
    assert {"데이터셋", "신경망", "옵티마이저", "학습률", "배치 크기", "에포크",
            "검증 비율", "난수 시드"} <= set(labels)
    assert [label for label in labels if not hangul(label)] == []
    assert "학습 시작" in [b.label for b in at.button]
    assert "MNIST 손글씨 숫자" in at.selectbox(key="dataset").options
    assert "CIFAR-10 컬러 사진" in at.selectbox(key="dataset").options
    assert at.selectbox(key="dataset").value == "mnist"      # the value stays the address's
    assert all(hangul(c.value) for c in at.caption if c.value), [c.value for c in at.caption]


def test_training_page_shows_fashion_class_names_in_korean():
    at = app_test("training", timeout=120, query={"lang": "ko", "dataset": "fashion_mnist"})
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "클래스 10개" in c.value)
    assert "티셔츠/탑" in caption and "앵클 부츠" in caption and "Sneaker" not in caption


def test_a_bad_setting_in_the_address_is_named_in_korean():
    at = app_test("training", timeout=120, query={"lang": "ko", "batch_size": "0"})
    assert not at.exception, at.exception
    assert any(w.value.startswith("주소의 설정 하나를 무시했습니다: ") for w in at.warning)


def test_a_saved_run_that_died_says_why_in_korean():
    """The poller wrote the reason in English into status.json (any session's poll may do it);
    a Korean session reads it in Korean, the file stays English."""
    run_id = runs.new_run_id()
    folder = runs.run_path(run_id)
    folder.mkdir(parents=True)
    reason = texts.PROCESS_DIED.format(how=texts.EXITED.format(code=-9),
                                       kept=texts.NO_MODEL_KEPT)
    runs.write_json(folder / "settings.json", {"preset": "Fast MNIST CNN", "dataset": "mnist",
                                               "optimizer": "Adam", "learning_rate": 0.001})
    runs.write_json(folder / "status.json", {"status": "died", "reason": reason})
    at = app_test("training", timeout=120, query={"lang": "ko", "job": run_id})
    assert not at.exception, at.exception
    line = next(m.value for m in at.markdown if f"`{run_id}`" in m.value)
    assert line == (f"**실행 `{run_id}`** — 비정상 종료 — 학습 프로세스가 예기치 않게 끝났습니다 "
                    "(종료 코드 -9). 저장된 모델은 아직 없었습니다.")
    assert runs.read_json(folder / "status.json")["reason"] == reason


TINY = {"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]}


@pytest.mark.slow
def test_the_training_process_answers_in_the_sessions_language(korean):
    """A real run started from a Korean page: the worker process (which has no session) answers
    a new learning rate and stops; the page shows both lines in Korean, status.json keeps the
    English. (``korean``: AppTest applies the widgets' format_func on the test's own thread when
    it sends a click, so that thread must read Korean too.)"""
    at = app_test("training", timeout=120, query={
        "lang": "ko", "spec": network.to_json(TINY), "train_examples": "6000", "epochs": "20",
        "batch_size": "10"})
    next(b for b in at.button if b.label == "학습 시작").click()
    at.run()
    assert not at.exception, at.exception
    run_id = at.query_params["job"]
    run_id = run_id[0] if isinstance(run_id, list) else run_id
    deadline = time.time() + 180

    def until(condition):
        while time.time() < deadline:
            at.run()
            assert not at.exception, at.exception
            if condition():
                return True
            time.sleep(0.5)
        return False

    def status_line():
        return next((m.value for m in at.markdown if f"`{run_id}`" in m.value), "")

    assert until(lambda: "학습 중" in status_line()), status_line()
    at.number_input(key=f"lr-now-{run_id}").set_value(0.002)
    next(b for b in at.button if b.label == "학습률 적용").click()
    assert until(lambda: any(c.value == "학습률을 0.002(으)로 바꿨습니다" for c in at.caption)), \
        [c.value for c in at.caption]
    next(b for b in at.button if b.label == "중지").click()
    assert until(lambda: "사용자가 중지했습니다" in status_line()), status_line()
    assert status_line().startswith(f"**실행 `{run_id}`** — 중지됨")
    status = runs.read_json(runs.run_path(run_id) / "status.json")
    assert (status["status"], status["reason"]) == ("stopped", "stopped by the user")


# --- the Model Inspector --------------------------------------------------------------------

def test_inspector_in_korean_on_the_shipped_model():
    """No saved run: the page opens on the pretrained MNIST model and follows a test digit."""
    at = app_test("inspector", timeout=300, query={"lang": "ko"})
    assert not at.exception, at.exception
    assert at.title[0].value == "모델 살펴보기"
    assert {"신경망을 계층별로 따라가기", "어느 픽셀이 중요했나", "모델 요약"} <= {
        s.value for s in at.subheader}
    assert [r.label for r in at.radio] == ["모델", "입력"]
    assert at.radio(key="input_source").options == ["테스트 숫자", "그리기", "사진 올리기"]
    assert at.radio(key="input_source").value == "Test digit"   # the address keeps English
    assert at.selectbox(key="explain_class").label == "설명할 숫자의 점수"
    assert at.number_input(key="digit_index").label.startswith(
        "테스트 숫자 번호 (MNIST 손글씨 숫자")
    figures = [json.loads(chart.proto.spec)["layout"] for chart in at.get("plotly_chart")]
    titles = [(layout.get("title") or {}).get("text") or "" for layout in figures]
    assert any(title.startswith("예측: ") for title in titles), titles
    assert any(title.startswith("입력 (28×28×1)") for title in titles), titles
    assert any("특징 맵" in title for title in titles), titles
    assert any(title.startswith("돌출 맵(saliency)") for title in titles), titles
    layers = [m.value for m in at.markdown if m.value.startswith("**")]
    assert any("스트라이드" in line and "stride" not in line for line in layers), layers
    assert any(line.endswith("Dense 유닛 10개, softmax") for line in layers), layers
    captions = [c.value for c in at.caption]
    assert any(c.startswith("픽셀을 바꾸면 클래스 점수가") for c in captions), captions
    assert any("이 숫자에 대한 각 계층의 출력" in c for c in captions), captions
    assert not any(c.startswith(("Each layer's output", "Bright where", "Like Grad-CAM"))
                   for c in captions), captions


def test_an_uploaded_models_refusal_and_a_bad_zip_are_explained_in_korean(korean):
    """Raised on the session's thread (the page's cached loaders run there): its language."""
    from playground.datasets import zip_import
    from playground.inspector import loading

    with pytest.raises(loading.ModelError) as empty:
        loading.load_model_bytes(b"", "model.keras")
    assert str(empty.value) == "파일이 비어 있습니다"
    with pytest.raises(loading.ModelError) as renamed:
        loading.load_model_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "model.keras")
    assert str(renamed.value).startswith("이 파일은 Keras 모델이 아닙니다: .keras 파일은")
    assert str(renamed.value).endswith("이름을 .h5로 바꾸세요")
    with pytest.raises(ValueError) as bad_zip:
        zip_import.dataset_from_zip(b"not a zip", 32, True)
    assert str(bad_zip.value).startswith("읽을 수 있는 .zip 압축 파일이 아닙니다")
