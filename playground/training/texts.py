"""Texts made where no session's language is known, translated where a page shows them.

A training process, the job registry's polling (one thread serves every session) and the
saved ``status.json`` write their lines in English, from the templates below. A run's reason
on disk must read the same for every viewer, and a spawned process has no session at all, so
the language is applied at the last moment: ``shown(text)`` finds the template a line was made
from, translates it with ``_`` (this session's language) and translates the values in it the
same way ("the training process {how}.{kept}" holds two more lines). A line made from no
template (an exception's own message) is shown as it is.

    texts.VIEWER_GONE.format(seconds="181")   # the worker writes this
    texts.shown(line)                          # the page shows "181 s 동안 …" in Korean
"""
from __future__ import annotations

import functools
import re
import string

from playground.i18n import N_, _

# Why a run stopped or died (status.json's "reason", the live panel's messages).
STOPPED_BY_USER = N_("stopped by the user")
STOPPED_BEFORE_START = N_("stopped before training started")
STOPPED_WAITING = N_("stopped while waiting for a slot")
UNWATCHED_IN_QUEUE = N_("nobody watched it while it waited")
SERVER_GONE = N_("the server went away")
VIEWER_GONE = N_("nobody watched the run for {seconds} s (viewer time-out)")
SERVER_SHUTDOWN = N_("the server shut down (signal {signal})")
SERVER_STOPPED = N_("the server stopped while this run was active.{kept}")
PROCESS_DIED = N_("the training process {how}.{kept}")
KILLED = N_("was killed by signal {signal}")
EXITED = N_("ended unexpectedly (exit code {code})")
NO_MODEL_KEPT = N_(" No model had been saved yet.")
EPOCH_MODEL_KEPT = N_(" The model saved at the end of epoch {epoch} was kept.")
LAST_MODEL_KEPT = N_(" The last saved model was kept.")
# The worker's answers to a new learning rate.
RATE_SET = N_("learning rate set to {rate}")
RATE_NOT_POSITIVE = N_("learning rate must be a positive number, got {value}")
RATE_SCHEDULED = N_("this run follows a learning-rate schedule; its rate cannot be set by hand")
# A run on a Ray cluster (playground/training/ray_backend.py).
ACTOR_DIED = N_("the Ray actor training it on {node} died (its process or node was lost).{kept}")
CLUSTER_LOST = N_("its Ray actor is gone (the cluster was restarted?).{kept}")

# Why a run failed: an exception inside the training (the traceback goes to error.log).
FAILED_WITH = N_("training stopped on an error: {error}")
OUT_OF_MEMORY = N_("the machine ran out of memory while training: try a smaller batch size, "
                   "smaller pictures or a smaller network")

TEMPLATES = (STOPPED_BY_USER, STOPPED_BEFORE_START, STOPPED_WAITING, UNWATCHED_IN_QUEUE,
             SERVER_GONE, VIEWER_GONE, SERVER_SHUTDOWN, SERVER_STOPPED, PROCESS_DIED, KILLED,
             EXITED, NO_MODEL_KEPT, EPOCH_MODEL_KEPT, LAST_MODEL_KEPT, RATE_SET,
             RATE_NOT_POSITIVE, RATE_SCHEDULED, ACTOR_DIED, CLUSTER_LOST, FAILED_WITH,
             OUT_OF_MEMORY)

def failure(error: BaseException) -> str:
    """The English line for an exception that ended a run: running out of memory (Python's or
    TensorFlow's ResourceExhaustedError) in words, anything else as its type and the first
    line of its own message (TensorFlow's, so English in every language)."""
    if isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError":
        return OUT_OF_MEMORY
    message = (str(error).strip().splitlines() or [""])[0][:300]
    name = type(error).__name__
    return FAILED_WITH.format(error=f"{name}: {message}" if message else name)


# A run's status word (status.json's "status", the job's state) as the page shows it.
STATUS_WORDS = {
    "queued": N_("queued"), "starting": N_("starting"), "loading": N_("loading"),
    "running": N_("running"), "paused": N_("paused"), "stopping": N_("stopping"),
    "saving": N_("saving"), "testing": N_("testing"), "done": N_("done"),
    "finished": N_("finished"), "stopped": N_("stopped"), "failed": N_("failed"),
    "died": N_("died"), "interrupted": N_("interrupted"),
}


def status_word(status: object) -> str:
    """A status such as 'finished' in this session's language ('?' for none; an unknown word
    as it is)."""
    if not isinstance(status, str) or not status:
        return "?"
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


_registered: list[str] = list(TEMPLATES)


def register(*templates: str) -> None:
    """Templates of another module (a backend's own reasons, each marked N_) that ``shown``
    should read back too."""
    _registered.extend(t for t in templates if t not in _registered)
    _patterns.cache_clear()


@functools.cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    """(regex that reads a line made from the template back into its values, template)."""
    out = []
    for template in _registered:
        regex = ""
        for literal, name, _spec, _conversion in string.Formatter().parse(template):
            regex += re.escape(literal)
            if name is not None:
                regex += f"(?P<{name}>.*?)"
        out.append((re.compile(regex, re.DOTALL), template))
    return out


def shown(text: object) -> str:
    """An English line made from one of TEMPLATES, in this session's language (the values in
    it too, when they are such lines); any other text unchanged. '' for None."""
    if text is None:
        return ""
    text = str(text)
    for pattern, template in _patterns():
        match = pattern.fullmatch(text)
        if match:
            values = {name: shown(value) if value else value
                      for name, value in match.groupdict().items()}
            return _(template, **values) if values else _(template)
    return text
