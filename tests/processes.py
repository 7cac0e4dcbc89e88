"""Every process a test starts: in a process group of its own, stopped as a group, every
wait bounded, so that no child (a reloader's, a server's workers) can outlive or hang a test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

WAIT = 10.0  # seconds a stopped group may take to exit before it is killed


class Child:
    """``argv`` started in a new session, so in a process group of its own; its output (and
    standard error, unless ``stderr`` says otherwise) to a pipe, or to the file ``log``.
    ``stop`` signals the whole group, as Ctrl-C in a terminal does."""

    def __init__(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        log: IO[bytes] | None = None,
        stderr: int = subprocess.STDOUT,
    ) -> None:
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE if log is None else log,
            stderr=stderr,
            text=log is None,
            start_new_session=True,
        )
        self.group = self.process.pid  # a new session's leader leads its own group
        self.output = ""

    def readline(self) -> str:
        """One line of the output pipe (the test's own timeout bounds the wait).

        Read a byte at a time from the pipe itself: ``communicate`` in ``stop`` reads the
        pipe, not the file object's buffer, so what a buffered ``readline`` had read past
        the line would be lost from the output.
        """
        assert self.process.stdout is not None
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = os.read(self.process.stdout.fileno(), 1)
            if not byte:
                break
            line += byte
        return line.decode("utf-8", "replace")

    def stop(self, how: signal.Signals = signal.SIGINT, wait: float = WAIT) -> str:
        """Send ``how`` to the group; kill the group after ``wait`` seconds; return the output.

        The output pipe closes when the last process holding it exits, which may be a child
        of the one started: the group is killed once the wait is over, whoever holds it.
        """
        self._signal(how)
        try:
            output, _ = self.process.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            output, _ = self.process.communicate(timeout=wait)
        self._signal(signal.SIGKILL)  # whatever is left of the group, once its leader is gone
        self.output += output or ""
        return self.output

    def kill(self, wait: float = WAIT) -> None:
        """Kill the whole group at once and wait, at most ``wait`` seconds, until it is gone."""
        self.stop(signal.SIGKILL, wait)
        deadline = time.monotonic() + wait
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"process group {self.group} still alive after {wait} s")
            time.sleep(0.05)

    def alive(self) -> bool:
        """Whether a process of the group still runs (a zombie waiting for its reaper does not)."""
        return any(state != "Z" for state in _group_states(self.group))

    def _signal(self, how: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.group, how)


def _group_states(group: int) -> list[str]:
    """The states (``ps``'s letters) of the processes whose process group is ``group``."""
    states = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited meanwhile
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group:
            states.append(state)
    return states


def run(
    argv: list[str],
    timeout: float = 120.0,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``argv`` to its end in a group of its own and return its standard output; fail
    the test if it exits with an error or outlives ``timeout`` seconds (the group is killed).
    """
    child = Child(argv, cwd=cwd, env=env, stderr=subprocess.PIPE)
    try:
        output, errors = child.process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"{argv} ran over {timeout} s:\n{child.stop(signal.SIGKILL)}"
        ) from None
    finally:
        child.kill()
    code = child.process.returncode
    assert code == 0, f"{argv} exited with {code}:\n{output}{errors}"
    return output
