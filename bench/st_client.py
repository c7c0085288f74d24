"""A headless Streamlit client: it speaks the app's websocket protocol, and renders nothing.

A browser tab talks to a Streamlit server over one websocket (``/_stcore/stream``): it sends
``BackMsg`` protobufs (``rerun_script`` with the page, the query string and every widget's
value) and receives ``ForwardMsg`` protobufs (``new_session``, one ``delta`` per element,
``page_info_changed`` when the page sets ``st.query_params``, ``auto_rerun`` for a fragment
with ``run_every``, and ``script_finished``). This client does the same, so a load test can
open many sessions without paying for many browsers, and time the server's answer alone.

    session = StreamlitSession("http://127.0.0.1:8501", "shape_lab")
    await session.open()                          # the page's first run
    session.set_widget("Input height H", 40)
    run = await session.rerun(until=lambda s: s.metric("Output shape H′ × W′ × C′") == "39 × 2 × 1")
    run.answered, run.finished                     # seconds from the send
    await session.close()

What it does not do: upload files, answer ``file_urls_request``, keep the forward-message
cache (it never claims a cached message, so the server always sends the whole message), or
edit a data editor. Like a browser, it sends the value of every input widget it has been shown
with each rerun.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

_FINISHED_FULL = {ForwardMsg.FINISHED_SUCCESSFULLY}


@dataclass
class RunTiming:
    """One rerun, timed from the moment its BackMsg was sent (seconds)."""
    answered: Optional[float]   # when ``until`` first held (None: it never did)
    finished: float             # when the server said the script run had finished


def _shown_state(kind: str, proto) -> Optional[WidgetState]:
    """The value a browser reports for a widget it has just drawn, before anyone touches it.

    A browser sends the state of every input widget on the page with each rerun (checked
    against Chromium's websocket frames on the Shape Lab): the value the script set, else the
    default. Buttons and an unedited data editor send nothing.
    """
    state = WidgetState(id=proto.id)
    if kind == "number_input":
        value = proto.value if proto.set_value else proto.default
        if proto.data_type == proto.INT:
            state.int_value = int(value)
        else:
            state.double_value = float(value)
    elif kind in ("radio", "selectbox"):
        if proto.set_value:
            state.string_value = proto.raw_value
        elif proto.HasField("default") and len(proto.options) > proto.default:
            state.string_value = proto.options[proto.default]
        else:
            return None
    elif kind == "slider" and proto.type == proto.SELECT_SLIDER:
        indices = proto.value if proto.set_value else proto.default
        state.string_array_value.data.extend(proto.options[int(i)] for i in indices)
    elif kind == "slider":
        state.double_array_value.data.extend(proto.value if proto.set_value else proto.default)
    elif kind == "multiselect":
        state.string_array_value.data.extend(
            proto.raw_values if proto.set_value else [proto.options[i] for i in proto.default])
    elif kind == "checkbox":
        state.bool_value = proto.value if proto.set_value else proto.default
    elif kind == "button_group":  # st.segmented_control / st.pills (the language switch)
        state.string_array_value.data.extend(
            proto.raw_values if proto.set_value else [proto.options[i].content
                                                      for i in proto.default])
    elif kind in ("text_input", "text_area"):
        state.string_value = proto.value if proto.set_value else proto.default
    else:
        return None
    return state


class StreamlitSession:
    """One session of one page, as a browser tab would hold it."""

    def __init__(self, url: str, page: str, query_string: str = ""):
        parts = urlsplit(url)
        self.http_origin = f"{parts.scheme}://{parts.netloc}"
        self.ws_url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.page = page
        self.query_string = query_string
        self.page_script_hash = ""   # known after the first run; then sent instead of the name
        self.elements: dict[tuple, tuple[str, Any]] = {}   # delta path -> (type, proto)
        self.widget_ids: dict[str, tuple[str, str]] = {}   # label -> (widget id, element type)
        self.widget_states: dict[str, WidgetState] = {}    # widget id -> the value we send
        self.exceptions: list[str] = []                    # st.exception / tracebacks seen
        self.auto_reruns: dict[str, float] = {}            # fragment id -> interval (s)
        self._ws = None
        self._reader: Optional[asyncio.Task] = None
        self._auto_tasks: list[asyncio.Task] = []
        self._changed = asyncio.Event()
        self._finished: list[int] = []      # script_finished statuses, in order
        self._sent_full_runs = 0
        self._closed = False
        self._registered: set[str] = set()   # fragments that asked for auto-reruns this run
        self._touched: set[tuple] = set()    # delta paths written since the last full run

    # -------------------------------------------------------------------- connection
    async def open(self, timeout: float = 120) -> RunTiming:
        """Connect and run the page once, as a tab does when it loads the URL."""
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                            origin=self.http_origin, max_size=None,
                                            open_timeout=timeout)
        self._reader = asyncio.create_task(self._read())
        return await self.rerun(timeout=timeout)

    async def close(self) -> None:
        self._closed = True
        for task in self._auto_tasks:
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await self._reader
            except Exception:  # noqa: BLE001 - a reader that failed has nothing left to say
                pass

    # -------------------------------------------------------------------- page content
    def metric(self, label: str) -> Optional[str]:
        """The shown value of the ``st.metric`` with this label, or None."""
        for kind, proto in list(self.elements.values()):
            if kind == "metric" and proto.label == label:
                return proto.body
        return None

    def find(self, kind: str) -> list:
        """The protos of every element of one type shown now (``alert``, ``progress``, ...)."""
        return [proto for k, proto in list(self.elements.values()) if k == kind]

    def set_widget(self, label: str, value: Any) -> None:
        """Give a widget (found by its label) a value that the next rerun sends."""
        widget_id, kind = self.widget_ids[label]
        state = WidgetState(id=widget_id)
        if kind == "button":
            state.trigger_value = bool(value)
        elif kind == "number_input":
            proto = self._widget_proto(label)
            if proto.data_type == proto.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif kind in ("slider",):
            state.double_array_value.data.extend([float(value)])
        elif kind in ("text_input", "text_area"):
            state.string_value = str(value)
        elif kind == "checkbox":
            state.bool_value = bool(value)
        else:
            raise NotImplementedError(f"widgets of type {kind}")
        self.widget_states[widget_id] = state

    def _widget_proto(self, label: str):
        widget_id, _ = self.widget_ids[label]
        for _kind, proto in self.elements.values():
            if getattr(proto, "id", None) == widget_id:
                return proto
        raise KeyError(label)

    # -------------------------------------------------------------------- reruns
    async def rerun(self, until: Optional[Callable[["StreamlitSession"], bool]] = None,
                    timeout: float = 60) -> RunTiming:
        """Send the page's widget values and wait for the full run to finish.

        ``until`` is checked after every message; the first time it holds is ``answered``.
        Trigger values (buttons) are sent once, as a browser does.
        """
        msg = self._rerun_msg()
        msg.rerun_script.widget_states.widgets.extend(self.widget_states.values())
        for widget_id, state in list(self.widget_states.items()):
            if state.WhichOneof("value") == "trigger_value":
                del self.widget_states[widget_id]
        done_before = self._full_finishes()
        answered = None
        t0 = time.perf_counter()
        self._changed.clear()
        await self._ws.send(msg.SerializeToString())
        deadline = t0 + timeout
        while True:
            if answered is None and until is not None and until(self):
                answered = time.perf_counter() - t0
            if self._full_finishes() > done_before:
                finished = time.perf_counter() - t0
                if until is not None and answered is None and until(self):
                    answered = finished
                return RunTiming(answered, finished)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{self.page}: no finished run within {timeout:.0f} s")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                continue
            self._changed.clear()

    def _rerun_msg(self) -> BackMsg:
        """A rerun of this page. Like a browser: by URL path the first time, then by the page's
        script hash (a request by path reads as arriving at the page afresh)."""
        msg = BackMsg()
        if self.page_script_hash:
            msg.rerun_script.page_script_hash = self.page_script_hash
        else:
            msg.rerun_script.page_name = self.page
        msg.rerun_script.query_string = self.query_string
        return msg

    @property
    def fragment_runs(self) -> int:
        """How many fragment runs (``run_every`` refreshes) have finished so far."""
        return sum(1 for status in self._finished
                   if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)

    def _full_finishes(self) -> int:
        return sum(1 for status in self._finished if status in _FINISHED_FULL)

    async def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        """What the browser does for ``st.fragment(run_every=...)``: rerun just the fragment."""
        while not self._closed and self.auto_reruns.get(fragment_id) == interval:
            await asyncio.sleep(interval)
            msg = self._rerun_msg()
            msg.rerun_script.fragment_id = fragment_id
            msg.rerun_script.is_auto_rerun = True
            msg.rerun_script.widget_states.widgets.extend(
                s for s in self.widget_states.values()
                if s.WhichOneof("value") != "trigger_value")
            try:
                await self._ws.send(msg.SerializeToString())
            except websockets.ConnectionClosed:
                return

    # -------------------------------------------------------------------- reading
    async def _read(self) -> None:
        try:
            async for data in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._changed.set()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            delta = msg.delta
            path = tuple(msg.metadata.delta_path)
            self._touched.add(path)
            which = delta.WhichOneof("type")
            if which == "new_element":
                element = delta.new_element
                el_kind = element.WhichOneof("type")
                proto = getattr(element, el_kind)
                self.elements[path] = (el_kind, proto)
                if el_kind == "exception":
                    self.exceptions.append(f"{proto.type}: {proto.message}")
                widget_id = getattr(proto, "id", "")
                label = getattr(proto, "label", "")
                if widget_id and label:
                    self.widget_ids[label] = (widget_id, el_kind)
                # The first time a widget is drawn, or when the script set its value.
                if widget_id and (widget_id not in self.widget_states
                                  or getattr(proto, "set_value", False)):
                    shown = _shown_state(el_kind, proto)
                    if shown is not None:
                        self.widget_states[widget_id] = shown
            elif which == "add_block":
                self.elements[path] = ("block", delta.add_block)
        elif kind == "navigation":
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            interval, fragment_id = msg.auto_rerun.interval, msg.auto_rerun.fragment_id
            self._registered.add(fragment_id)
            if self.auto_reruns.get(fragment_id) != interval:
                self.auto_reruns[fragment_id] = interval
                self._auto_tasks.append(asyncio.create_task(
                    self._auto_rerun(fragment_id, interval)))
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids or list(self.auto_reruns):
                self.auto_reruns.pop(fragment_id, None)
        elif kind == "script_finished":
            self._finished.append(msg.script_finished)
            if msg.script_finished in _FINISHED_FULL:
                # As the browser does: what this run did not write again is gone.
                for path in set(self.elements) - self._touched:
                    del self.elements[path]
                self._touched.clear()
                # As the browser does: a full run drops the timers of fragments it did not
                # register again.
                for fragment_id in set(self.auto_reruns) - self._registered:
                    self.auto_reruns.pop(fragment_id)
                self._registered.clear()
