"""Who may use the teacher's view: a password, compared in constant time, and short-lived
tokens for the sessions that gave it.

Off unless ``$PLAYGROUND_TEACHER_PASSWORD`` is set. The password is read from the environment
only (never from the address, never logged, never kept in a session: the page's form clears
it). A failed attempt is slowed down twice over:

* per session: after ``n`` failures that session's next attempt is refused unchecked for
  ``min(2 ** (n - 1), 60)`` seconds;
* globally (every session together, so opening new sessions does not help): at most
  ``GLOBAL_FAILURES`` failures per ``GLOBAL_WINDOW`` seconds; past that every attempt is
  refused unchecked until the window has room again.

A right password gives a random token (``secrets.token_urlsafe``) valid ``TOKEN_HOURS``; the
teacher's actions (``playground.teacher.board.TeacherDesk``) take the token and refuse
without a valid one, so nothing a learner's page calls can reach them.
"""
from __future__ import annotations

import collections
import hmac
import os
import secrets
import threading
import time
from typing import Callable, Optional

ENV = "PLAYGROUND_TEACHER_PASSWORD"
GLOBAL_FAILURES = 10
GLOBAL_WINDOW = 60.0
MAX_SESSION_DELAY = 60.0
TOKEN_HOURS = 12.0


def enabled() -> bool:
    """True when a teacher password is configured (the Teacher page exists only then)."""
    return bool(os.environ.get(ENV, ""))


class Gate:
    """Checks passwords and hands out tokens. Thread-safe; one per server (``gate()``)."""

    def __init__(self, password: Optional[str] = None,
                 clock: Callable[[], float] = time.monotonic):
        secret = os.environ.get(ENV, "") if password is None else password
        self._secret = secret.encode("utf-8")
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}   # session -> (count, next allowed)
        self._recent: collections.deque = collections.deque()  # times of recent failures
        self._tokens: dict[str, float] = {}                   # token -> expiry

    def wait_seconds(self, session: str) -> float:
        """How long ``session`` must wait before an attempt is checked (0 = now)."""
        now = self._clock()
        with self._lock:
            return self._wait(session, now)

    def _wait(self, session: str, now: float) -> float:
        while self._recent and now - self._recent[0] > GLOBAL_WINDOW:
            self._recent.popleft()
        waits = [self._failures.get(session, (0, now))[1] - now]
        if len(self._recent) >= GLOBAL_FAILURES:
            waits.append(self._recent[0] + GLOBAL_WINDOW - now)
        return max(0.0, *waits)

    def login(self, password: str, session: str) -> tuple[Optional[str], float]:
        """(token, 0) for the right password; (None, seconds to wait) otherwise. An attempt
        made while ``session`` must wait is refused without being checked."""
        now = self._clock()
        with self._lock:
            wait = self._wait(session, now)
            if wait > 0:
                return None, wait
            given = (password or "").encode("utf-8")
            if self._secret and hmac.compare_digest(given, self._secret):
                self._failures.pop(session, None)
                token = secrets.token_urlsafe(32)
                self._tokens[token] = now + TOKEN_HOURS * 3600
                return token, 0.0
            count = self._failures.get(session, (0, now))[0] + 1
            delay = min(2.0 ** (count - 1), MAX_SESSION_DELAY)
            self._failures[session] = (count, now + delay)
            self._recent.append(now)
            return None, self._wait(session, now)

    def valid(self, token: object) -> bool:
        """True for a token this gate gave and that has not expired or been revoked."""
        if not isinstance(token, str) or not self._secret:
            return False
        with self._lock:
            expiry = self._tokens.get(token)
            if expiry is None:
                return False
            if self._clock() > expiry:
                del self._tokens[token]
                return False
            return True

    def logout(self, token: object) -> None:
        with self._lock:
            self._tokens.pop(token, None)


_GATE: Optional[Gate] = None
_GATE_LOCK = threading.Lock()


def gate() -> Gate:
    """This server's gate (made on first use, from ``$PLAYGROUND_TEACHER_PASSWORD``)."""
    global _GATE
    with _GATE_LOCK:
        if _GATE is None or _GATE._secret != os.environ.get(ENV, "").encode("utf-8"):
            _GATE = Gate()
        return _GATE
