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


def resolve_mode(
    argument: Mode | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    default: Mode = Mode.OFF,
) -> tuple[Mode, str]:
    """Return the mode and where it came from: ``argument``, ``DEBUGPAGES`` or ``default``."""
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
    return default, "default"
