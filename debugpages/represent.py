"""The application's ``__repr__`` run off the request's thread, with a deadline.

A ``__repr__`` can do anything: sleep, wait on a lock or a socket, loop, raise any
``BaseException``. Each one a page needs runs on a worker thread while the request's
thread waits, at most until the page's deadline; a repr still running then is abandoned
with its worker, and the value shows that it timed out. A page borrows one worker for
all its values and gives it back; idle workers are kept for the next page.

What that costs is bounded: an abandoned worker ends when its repr returns, holding the
value until then (a repr that never returns holds it for the life of the process). At
most ``MAX_ABANDONED`` workers are abandoned at a time; past that, values whose repr
would need a worker show their type only, until one of them ends.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass

MAX_ABANDONED = 8
"""Workers whose repr outlived its deadline that may still be running at once."""
_MAX_IDLE = 2
"""Idle workers kept for the next pages; more (after a burst of failures) end."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``repr`` did: its text, or the exception it raised (type and message)."""

    text: str = ""
    failed: str | None = None
    """The qualified name of the exception ``repr`` raised, if it raised one."""
    message: str = ""
    """That exception's message, unmasked and uncut (``<str() failed>`` if it has none)."""


TIMED_OUT = Outcome(failed="timed out")
"""The repr was still running at the deadline: abandoned."""
NO_WORKER = Outcome(failed="no worker")
"""No worker to run it: ``MAX_ABANDONED`` are still inside reprs given up on."""


def represent(value: object) -> Outcome:
    """``repr(value)`` as a plain ``str``, or what went wrong: never raises."""
    try:
        text = repr(value)
    except BaseException as exc:  # CancelledError, gevent's Timeout...: the page goes on
        return failure(exc)
    if not isinstance(text, str):  # a C type's repr may return anything
        return Outcome(failed="", message=f"it returned {_name(text)}, not str")
    return Outcome(str.__str__(text))  # a Markup or SafeString is plain text here


def failure(exc: BaseException) -> Outcome:
    """The outcome of a repr that raised ``exc``."""
    return Outcome(failed=_name(exc), message=_message(exc))


def _name(value: object) -> str:
    try:
        return str.__str__(type(value).__qualname__)
    except BaseException:
        return "?"


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
        return str.__str__(text) if isinstance(text, str) else "<str() failed>"
    except BaseException:
        return "<str() failed>"


class _Job:
    """Values to represent in order; their outcomes, as they come."""

    __slots__ = ("done", "outcomes", "values")

    def __init__(self, values: list[object]) -> None:
        self.values = values
        self.outcomes: list[Outcome] = []
        self.done = threading.Lock()
        """Held until every outcome is in: a bare lock, the cheapest wait with a timeout."""
        self.done.acquire()


class _Worker:
    """A thread that represents the values handed to it, one at a time."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.abandoned = False
        thread = threading.Thread(target=self._run, name="debugpages-repr", daemon=True)
        thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None or self._do(job):
                return
            del job  # nothing of a page stays alive while the worker waits for the next

    def _do(self, job: _Job) -> bool:
        """Represent the job's values; ``True`` if it was abandoned: the worker ends."""
        for value in job.values:
            outcome = represent(value)
            with self.pool.lock:
                job.outcomes.append(outcome)
                if self.abandoned:  # the rest are the page's to say nothing of
                    break
        job.values = []
        with self.pool.lock:
            job.done.release()
            if self.abandoned:  # the page gave up on this repr: end, uncounted
                self.pool.abandoned -= 1
                return True
        return False


class _Pool:
    """The workers of this process: idle ones, and a count of the abandoned ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.abandoned = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a forked child: the parent's threads do not exist here."""
        self.lock = threading.Lock()
        self.idle = []
        self.abandoned = 0

    def take(self) -> _Worker | None:
        """An idle worker, or a new one; ``None`` while ``MAX_ABANDONED`` are abandoned."""
        with self.lock:
            if self.idle:
                return self.idle.pop()
            if self.abandoned >= MAX_ABANDONED:
                return None
        return _Worker(self)

    def give(self, worker: _Worker) -> None:
        """A worker back from its page."""
        with self.lock:
            if len(self.idle) < _MAX_IDLE:
                self.idle.append(worker)
                return
        worker.jobs.put(None)

    def abandon(self, worker: _Worker, job: _Job) -> list[Outcome] | None:
        """Give up on ``job``: the outcomes it has, or ``None`` if it has just finished."""
        with self.lock:
            if not job.done.acquire(blocking=False):
                worker.abandoned = True
                self.abandoned += 1
                return list(job.outcomes)
        return None


_POOL = _Pool()


class Representer:
    """One page's reprs: a worker borrowed on first need, kept until ``close``."""

    __slots__ = ("_worker",)

    def __init__(self) -> None:
        self._worker: _Worker | None = None

    def represent(self, values: list[object], timeout: float) -> list[Outcome]:
        """``repr`` of each value, in order, all within ``timeout`` seconds. The one still
        running then is ``TIMED_OUT`` and the list stops there; ``[NO_WORKER]`` if no
        worker can be had."""
        worker = self._worker
        if worker is None:
            worker = self._worker = _POOL.take()
            if worker is None:
                return [NO_WORKER]
        job = _Job(values)
        worker.jobs.put(job)
        if not job.done.acquire(timeout=max(timeout, 0)):
            done = _POOL.abandon(worker, job)
            if done is not None:
                self._worker = None
                return [*done, TIMED_OUT]
        return job.outcomes

    def close(self) -> None:
        """Give the worker back."""
        if self._worker is not None:
            _POOL.give(self._worker)
            self._worker = None


def abandoned() -> int:
    """How many workers are still inside a repr their page gave up on."""
    return _POOL.abandoned
