"""The switch: which page an unhandled exception turns into.

Modelled on mod_python's ``PythonDebug On|Off``. The mode comes from an explicit
argument, else the ``DEBUGPAGES`` environment variable, else the context's default.
A value that is not one of the accepted spellings is an error at start-up: a typo
must never turn a traceback page on, nor pass silently.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_VAR = "DEBUGPAGES"


class Mode(enum.StrEnum):
    """What an unhandled exception turns into."""

    OFF = "off"
    """The canonical 500 page: no detail, only a reference that matches the log."""
    ON = "on"
    """The traceback page, with status 500."""
    LEGACY_200 = "legacy-200"
    """mod_python 3.2's ``PythonDebug On``: the traceback page with status 200, labelled."""


class ConfigurationError(ValueError):
    """A setting of debugpages has a value it cannot use."""


_SPELLINGS: dict[str, Mode] = {
    "off": Mode.OFF,
    "0": Mode.OFF,
    "false": Mode.OFF,
    "no": Mode.OFF,
    "on": Mode.ON,
    "1": Mode.ON,
    "true": Mode.ON,
    "yes": Mode.ON,
    "legacy-200": Mode.LEGACY_200,
}
ACCEPTED = tuple(_SPELLINGS)


def parse_mode(value: str, *, setting: str = ENV_VAR) -> Mode:
    """Read one spelling of a mode; blanks around it and letter case do not count."""
    mode = _SPELLINGS.get(value.strip().lower())
    if mode is None:
        raise ConfigurationError(
            f"{setting}={value!r} is not a mode debugpages knows. Accepted (any case, blanks "
            f"ignored): {', '.join(ACCEPTED)}; unset or empty means off."
        )
    return mode


@dataclass(frozen=True, slots=True)
class DebugFlag:
    """A framework's own debug flag (Flask's ``app.debug``, Django's ``DEBUG``).

    With ``follow``, it picks the mode when neither an argument nor ``DEBUGPAGES`` does:
    ``on`` when it is true, ``off`` when it is false. Followed or not, a mode that
    contradicts it is announced at WARNING.
    """

    name: str
    value: bool
    follow: bool = True
    opt_out: str = "follow_debug=False"
    """How the user stops following it, for the announcement."""

    def contradicts(self, mode: Mode) -> bool:
        """Whether ``mode`` shows tracebacks where the flag says no, or hides them where yes."""
        return (mode is not Mode.OFF) != self.value


def resolve_mode(
    argument: Mode | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    default: Mode = Mode.OFF,
    flag: DebugFlag | None = None,
) -> tuple[Mode, str]:
    """The mode and where it came from: ``argument``, ``DEBUGPAGES``, the flag or ``default``."""
    if argument is not None:
        if isinstance(argument, Mode):
            return argument, "argument"
        if not isinstance(argument, str):
            raise ConfigurationError(
                f"mode={argument!r} must be a Mode or one of: {', '.join(ACCEPTED)}"
            )
        return parse_mode(argument, setting="mode"), "argument"
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if value.strip():
        return parse_mode(value), ENV_VAR
    if flag is not None and flag.follow:
        return (Mode.ON if flag.value else Mode.OFF), flag.name
    return default, "default"


def announcement(mode: Mode, source: str, flag: DebugFlag | None = None) -> tuple[bool, str]:
    """Whether the chosen mode deserves a WARNING, and the line that says it.

    Any mode but ``off`` does, and so does a mode that contradicts the framework's
    own debug flag: the line says which setting won.
    """
    line = f"debugpages: mode {mode.value} (from {source})"
    warn = mode is not Mode.OFF
    if flag is not None and flag.contradicts(mode):
        winner = f"{source} ({flag.opt_out})" if source == "default" else source
        line += f", although {flag.name} is {flag.value}: {winner} wins"
        warn = True
    return warn, line
