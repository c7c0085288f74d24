"""The course's building blocks: a lesson, its controls, what it shows, and the progress.

A :class:`Lesson` is data plus two functions: ``run(values)`` computes what the lesson shows
with the playground's core (never its own math), and ``check(values)`` says whether the task is
done. The page draws the controls and the shown items generically, so it needs no lesson
knowledge. Pure Python: no streamlit.

Progress travels in the address: ``lesson`` (1-based, anything else falls back to 1) and
``done`` (the finished lessons, e.g. ``1.2.5``; bad parts are left out).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from playground.i18n import _

PAGES = ("shape_lab", "filter_lab", "training", "inspector")
MAX_ADDRESS_TEXT = 200   # longer `lesson` / `done` values are not read at all


@dataclass(frozen=True)
class Control:
    """One widget of a lesson. ``kind``: "int" (number box), "float" (number box), "choice"
    (radio over ``choices``, shown through ``labels``). ``label`` and ``labels`` are English
    msgids (translated where shown)."""

    name: str
    label: str
    kind: str
    default: Any
    low: Optional[float] = None
    high: Optional[float] = None
    step: Optional[float] = None
    choices: tuple = ()
    labels: Mapping[Any, str] = field(default_factory=dict)
    help: Optional[str] = None

    def clean(self, value: Any) -> Any:
        """``value`` as this control holds it, or the default when it is not one (a value
        from an old session or a hand-edited state never reaches the core unchecked)."""
        if self.kind == "choice":
            return value if value in self.choices else self.default
        try:
            number = int(value) if self.kind == "int" else float(value)
        except (TypeError, ValueError, OverflowError):
            return self.default
        if number != number:   # NaN
            return self.default
        if self.low is not None:
            number = max(number, type(number)(self.low))
        if self.high is not None:
            number = min(number, type(number)(self.high))
        return number


@dataclass
class Shown:
    """One item of a lesson's live result. ``kind`` and ``value``:

    - "metric": a short text (shape, count); ``help`` optional
    - "markdown": Markdown text
    - "matrix": a 2-D array (numbers in cells); ``extra`` may hold ``is_pad``
    - "maps": (h, w, F) feature maps; ``extra['labels']``
    - "picture": a 2-D array shown as a picture
    - "window": a :class:`playground.shape_lab.lab.Window`
    - "table": :func:`playground.shape_lab.lab.network_table` rows
    - "pipeline": :func:`playground.core.network.pipeline_stages`
    ``title`` is already in the session's language.
    """

    kind: str
    title: str
    value: Any
    extra: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """What a lesson shows for some values, or the one-line reason it cannot."""

    shown: list[Shown] = field(default_factory=list)
    error: Optional[str] = None


@dataclass(frozen=True)
class Lesson:
    """One topic of the notes. Texts are English msgids (``N_``); ``notes_code`` is the
    lecture's TensorFlow 1 code, ``keras_code`` its TensorFlow 2 / Keras equivalent.
    ``lab(values)`` -> (page name from PAGES, query dict) opens the same state in a lab."""

    key: str
    title: str
    paragraphs: tuple[str, ...]
    notes_code: str
    keras_code: str
    task: str
    controls: tuple[Control, ...]
    run: Callable[[dict], Outcome]
    check: Callable[[dict], bool]
    lab: Callable[[dict], tuple[str, dict]]
    lab_title: str = ""

    def defaults(self) -> dict:
        return {c.name: c.default for c in self.controls}

    def values(self, raw: Mapping[str, Any]) -> dict:
        """Every control's value from ``raw`` (missing or bad: the default)."""
        return {c.name: c.clean(raw.get(c.name, c.default)) for c in self.controls}

    def outcome(self, raw: Mapping[str, Any]) -> Outcome:
        """``run`` on clean values; a ValueError from the core becomes the message."""
        try:
            return self.run(self.values(raw))
        except ValueError as error:
            return Outcome(error=str(error).splitlines()[0])

    def done(self, raw: Mapping[str, Any]) -> bool:
        """Whether the task's check passes (an impossible setting is not done)."""
        try:
            return bool(self.check(self.values(raw)))
        except ValueError:
            return False


_NUMBER = re.compile(r"^\s*([0-9]{1,3})\s*$")


def lesson_number(raw: Any, count: int) -> int:
    """``?lesson=`` -> 1 … count; anything else (text, 0, 99, a list, 10⁹ digits) -> 1."""
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    if not isinstance(raw, str) or len(raw) > MAX_ADDRESS_TEXT:
        return 1
    match = _NUMBER.match(raw)
    number = int(match.group(1)) if match else 0
    return number if 1 <= number <= count else 1


def done_lessons(raw: Any, count: int) -> frozenset[int]:
    """``?done=1.2.5`` -> {1, 2, 5}; parts that are no lesson number are left out."""
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    if not isinstance(raw, str) or len(raw) > MAX_ADDRESS_TEXT:
        return frozenset()
    numbers = set()
    for part in re.split(r"[.,\s]+", raw):
        match = _NUMBER.match(part)
        if match and 1 <= int(match.group(1)) <= count:
            numbers.add(int(match.group(1)))
    return frozenset(numbers)


def done_text(done: Sequence[int]) -> str:
    """{5, 1, 2} -> "1.2.5" (the address's form)."""
    return ".".join(str(n) for n in sorted(done))


def progress_text(done: Sequence[int], count: int) -> str:
    return _("{done} of {count} lessons done", done=len(done), count=count)
