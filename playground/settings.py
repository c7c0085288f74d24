"""Every setting declared once: a ``Prop`` row per setting, read by widgets, links and checks.

Like tensorflow/playground's ``state.ts``: a setting has a name (its key in the address bar),
a type, a default, bounds or choices, and a help text. A wing declares its settings as a
``Props`` table (``playground/shape_lab/settings.py``, ``playground/filter_lab/settings.py``,
``playground/training/settings.py``); from that one table

- the page's widgets take their ranges and options (``Prop.widget_range``, ``Prop.choices``),
- ``Props.from_query`` reads a link (a bad value keeps its default and gives one message),
- ``Props.to_query`` writes one (values at their default are left out, so links stay short),
- ``Props.check`` validates a whole dict of settings (raises ``ValueError`` naming the setting).

Pure Python: no streamlit, no numpy, no TensorFlow.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from playground.i18n import _

# Whole numbers from an address are capped so that int() and a browser never see silly ones.
INT_LIMIT = 100_000


@dataclass(frozen=True)
class Prop:
    """One setting.

    ``type`` is ``int``, ``float``, ``str`` or ``bool``. ``low``/``high`` bound numbers
    (inclusive); ``choices`` lists the allowed values (compared case-insensitively when read
    from text). ``optional`` settings also accept ``None`` (a blank box: "as in the network").
    ``check`` is an extra test of the parsed value that raises ``ValueError`` with a message.
    """

    name: str
    type: type
    default: Any
    low: Optional[float] = None
    high: Optional[float] = None
    choices: Optional[Sequence[Any]] = None
    help: str = ""
    optional: bool = False
    check: Optional[Callable[[Any], Any]] = None

    def parse(self, raw: Any) -> Any:
        """A value from a link or a form -> the checked value; raises ValueError naming it."""
        raw = _last(raw)
        if self.optional and (raw is None or (isinstance(raw, str) and not raw.strip())):
            return None
        if self.type is bool:
            value = _boolean(self.name, raw)
        elif self.type is int:
            # A declared bound wider than INT_LIMIT (a 31-bit seed) is the limit instead.
            bounds = [abs(b) for b in (self.low, self.high) if b is not None]
            value = _integer(self.name, raw, max([INT_LIMIT] + bounds))
        elif self.type is float:
            value = _real(self.name, raw)
        else:
            value = raw.strip() if isinstance(raw, str) else raw
        if self.choices is not None:
            value = self._choice(value)
        if self.low is not None or self.high is not None:
            low = -math.inf if self.low is None else self.low
            high = math.inf if self.high is None else self.high
            if not low <= value <= high:
                raise ValueError(_("{name} must be in {low}..{high}, got {value}",
                                   name=self.name, low=_text(self.low), high=_text(self.high),
                                   value=repr(raw)))
        if self.check is not None:
            value = self.check(value)
        return value

    def _choice(self, value: Any) -> Any:
        for choice in self.choices:
            if value == choice or (isinstance(value, str) and isinstance(choice, str)
                                   and value.lower() == choice.lower()):
                return choice
        raise ValueError(_("{name} must be one of {choices}, got {value}", name=self.name,
                           choices=", ".join(map(str, self.choices)), value=repr(value)))

    def to_text(self, value: Any) -> str:
        """The value as it is written in a link (the inverse of ``parse``)."""
        if value is None:
            return ""
        if self.type is bool:
            return "1" if value else "0"
        if self.type is float:
            return repr(float(value))
        return str(value)

    def widget_range(self) -> dict[str, Any]:
        """``min_value``/``max_value`` for ``st.number_input`` or ``st.slider``."""
        out = {}
        if self.low is not None:
            out["min_value"] = self.type(self.low)
        if self.high is not None:
            out["max_value"] = self.type(self.high)
        return out


class Props(Mapping[str, Prop]):
    """A wing's settings table: name -> Prop, in declaration order."""

    def __init__(self, props: Iterable[Prop]):
        self._props = {prop.name: prop for prop in props}

    def __getitem__(self, name: str) -> Prop:
        return self._props[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._props)

    def __len__(self) -> int:
        return len(self._props)

    def defaults(self) -> dict[str, Any]:
        """A fresh dict of every setting at its default."""
        return {name: copy.deepcopy(prop.default) for name, prop in self._props.items()}

    def from_query(self, params: Mapping[str, Any], base: Optional[Mapping[str, Any]] = None,
                   message: Optional[str] = None) -> tuple[dict[str, Any], list[str]]:
        """Address-bar values laid over ``base`` (default: the defaults) -> (settings, messages).

        Unknown keys are ignored; a value that does not parse keeps the base value and adds one
        message (``message`` formatted with ``name`` and ``error``; by default "Ignored the
        link's {name}: {error}" in the session's language)."""
        if message is None:
            message = _("Ignored the link's {name}: {error}")
        settings = dict(self.defaults() if base is None else base)
        messages = []
        for name, raw in params.items():
            prop = self._props.get(name)
            if prop is None:
                continue
            try:
                settings[name] = prop.parse(raw)
            except ValueError as error:
                messages.append(message.format(name=name, error=error))
        return settings, messages

    def to_query(self, settings: Mapping[str, Any]) -> dict[str, str]:
        """Settings -> address-bar values of those that differ from their defaults."""
        query = {}
        for name, prop in self._props.items():
            if name not in settings:
                continue
            value = settings[name]
            if value is None or value == prop.default:
                continue
            query[name] = prop.to_text(value)
        return query

    def check(self, raw: Mapping[str, Any], names: Optional[Sequence[str]] = None
              ) -> dict[str, Any]:
        """A checked copy of ``raw`` (missing settings take their default); raises ValueError
        with a one-line message naming the first bad setting."""
        out = {}
        for name in names if names is not None else self._props:
            prop = self._props[name]
            out[name] = prop.parse(raw[name]) if name in raw else copy.deepcopy(prop.default)
        return out


def _last(value: Any) -> Any:
    # st.query_params gives the last value of a repeated key; a plain dict may hold a list.
    if isinstance(value, (list, tuple)):
        return value[-1] if value else ""
    return value


def _text(bound: Optional[float]) -> str:
    return "" if bound is None else f"{bound:g}" if isinstance(bound, float) else str(bound)


def _integer(name: str, raw: Any, limit: float = INT_LIMIT) -> int:
    try:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, str):
            text = raw.strip()
            # Unicode digits ("²", "٣") pass str.isdigit but are no whole numbers in a link.
            digits = text.lstrip("+-")
            if not (digits.isascii() and digits.isdecimal()) or len(text) > 12:
                raise ValueError
            value = int(text)
        else:
            value = int(raw)
            if float(raw) != value:
                raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise ValueError(_("{name} must be an integer, got {value}", name=name,
                           value=repr(raw))) from None
    if abs(value) > limit and isinstance(raw, str):
        raise ValueError(_("{name} must be between -{limit} and {limit}, got {value}",
                           name=name, limit=limit, value=repr(raw)))
    return value


def _real(name: str, raw: Any) -> float:
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(_("{name} must be a number, got {value}", name=name,
                           value=repr(raw))) from None
    if not math.isfinite(value):
        raise ValueError(_("{name} must be a finite number, got {value}", name=name,
                           value=repr(raw)))
    return value


def _boolean(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(_("{name} must be 0 or 1, got {value}", name=name, value=repr(raw)))
