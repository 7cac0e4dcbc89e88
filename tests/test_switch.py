"""The switch: DEBUGPAGES, the mode= argument, and what happens on a typo."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from debugpages import ConfigurationError, ErrorPages, Mode
from debugpages.switch import ACCEPTED, DebugFlag, announcement, parse_mode, resolve_mode

from .apps import ok_app

SPELLINGS = {
    "off": Mode.OFF, "Off": Mode.OFF, "OFF": Mode.OFF, "0": Mode.OFF, "false": Mode.OFF,
    "False": Mode.OFF, "no": Mode.OFF, "NO": Mode.OFF,
    "on": Mode.ON, "On": Mode.ON, "1": Mode.ON, "true": Mode.ON, "TRUE": Mode.ON,
    "yes": Mode.ON, "Yes": Mode.ON,
    "legacy-200": Mode.LEGACY_200, "LEGACY-200": Mode.LEGACY_200,
}  # fmt: skip


@pytest.mark.parametrize(("value", "mode"), SPELLINGS.items())
def test_every_spelling_sets_its_mode_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, mode: Mode
) -> None:
    monkeypatch.setenv("DEBUGPAGES", f"  {value}\t")
    assert ErrorPages(ok_app).mode is mode


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_empty_variable_means_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    if value is not None:
        monkeypatch.setenv("DEBUGPAGES", value)
    assert ErrorPages(ok_app).mode is Mode.OFF


@pytest.mark.parametrize("typo", ["onn", "legacy", "legacy200", "2", "debug", "of f", "tru"])
def test_a_typo_is_an_error_that_names_variable_value_and_spellings(
    monkeypatch: pytest.MonkeyPatch, typo: str
) -> None:
    monkeypatch.setenv("DEBUGPAGES", typo)
    with pytest.raises(ConfigurationError) as raised:
        ErrorPages(ok_app)
    message = str(raised.value)
    assert "DEBUGPAGES" in message
    assert repr(typo) in message
    for spelling in ACCEPTED:
        assert spelling in message
    assert isinstance(raised.value, ValueError)


@given(st.text(max_size=30))
def test_the_parser_accepts_exactly_the_documented_spellings(value: str) -> None:
    expected = {"off", "0", "false", "no", "on", "1", "true", "yes", "legacy-200"}
    if value.strip().lower() in expected:
        assert parse_mode(value).value in ("off", "on", "legacy-200")
    else:
        with pytest.raises(ConfigurationError):
            parse_mode(value)


@given(st.sampled_from(sorted(SPELLINGS)), st.text(" \t\n", max_size=3), st.text(" \t", max_size=3))
def test_blanks_and_case_never_change_the_mode(spelling: str, before: str, after: str) -> None:
    assert parse_mode(before + spelling.swapcase() + after) is SPELLINGS[spelling]


def test_the_argument_beats_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUGPAGES", "on")
    assert ErrorPages(ok_app, mode="off").mode is Mode.OFF
    assert ErrorPages(ok_app, mode=Mode.LEGACY_200).mode is Mode.LEGACY_200
    assert resolve_mode("on", environ={"DEBUGPAGES": "off"}) == (Mode.ON, "argument")


def test_the_argument_wins_even_over_a_broken_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUGPAGES", "garbage")
    assert ErrorPages(ok_app, mode="on").mode is Mode.ON


def test_a_bad_argument_is_an_error_naming_the_argument() -> None:
    with pytest.raises(ConfigurationError, match="mode='debug'"):
        ErrorPages(ok_app, mode="debug")
    with pytest.raises(ConfigurationError, match="mode=True"):
        ErrorPages(ok_app, mode=True)  # type: ignore[arg-type]


def test_the_context_default_applies_only_when_nothing_else_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resolve_mode(environ={}, default=Mode.ON) == (Mode.ON, "default")
    monkeypatch.setenv("DEBUGPAGES", "off")
    assert ErrorPages(ok_app, default=Mode.ON).mode is Mode.OFF


@pytest.mark.parametrize(
    ("env", "argument", "level", "source"),
    [
        (None, None, logging.INFO, "default"),
        ("on", None, logging.WARNING, "DEBUGPAGES"),
        (None, "legacy-200", logging.WARNING, "argument"),
        ("on", "off", logging.INFO, "argument"),
    ],
)
def test_the_chosen_mode_is_logged_once_with_its_source(
    monkeypatch: pytest.MonkeyPatch,
    records: object,
    env: str | None,
    argument: str | None,
    level: int,
    source: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("DEBUGPAGES", env)
    pages = ErrorPages(ok_app, mode=argument)
    logged = records()  # type: ignore[operator]
    assert len(logged) == 1
    assert logged[0].levelno == level
    assert pages.mode.value in logged[0].getMessage()
    assert source in logged[0].getMessage()


FLASK = "Flask's app.debug"
FLAG_ON, FLAG_OFF = DebugFlag(FLASK, True), DebugFlag(FLASK, False)


@pytest.mark.parametrize(
    ("argument", "env", "flag", "expected"),
    [
        ("off", "on", FLAG_ON, (Mode.OFF, "argument")),  # the argument first
        (None, "off", FLAG_ON, (Mode.OFF, "DEBUGPAGES")),  # then the variable
        (None, "", FLAG_ON, (Mode.ON, "Flask's app.debug")),  # then the framework's flag
        (None, None, FLAG_OFF, (Mode.OFF, "Flask's app.debug")),
        (None, None, DebugFlag("settings.DEBUG", True, follow=False), (Mode.OFF, "default")),
        (None, None, None, (Mode.OFF, "default")),  # then the context's default
    ],
)
def test_the_framework_debug_flag_comes_after_argument_and_variable(
    argument: str | None, env: str | None, flag: DebugFlag | None, expected: tuple[Mode, str]
) -> None:
    environ = {} if env is None else {"DEBUGPAGES": env}
    assert resolve_mode(argument, environ=environ, flag=flag) == expected


@pytest.mark.parametrize(
    ("mode", "source", "flag", "warn", "line"),
    [
        (Mode.OFF, "default", None, False, "debugpages: mode off (from default)"),
        (Mode.OFF, FLASK, FLAG_OFF, False, "debugpages: mode off (from Flask's app.debug)"),
        (Mode.ON, FLASK, FLAG_ON, True, "debugpages: mode on (from Flask's app.debug)"),
        (
            Mode.OFF, "DEBUGPAGES", FLAG_ON, True,
            "debugpages: mode off (from DEBUGPAGES), although Flask's app.debug is True: "
            "DEBUGPAGES wins",
        ),
        (
            Mode.LEGACY_200, "argument", FLAG_OFF, True,
            "debugpages: mode legacy-200 (from argument), although Flask's app.debug is False: "
            "argument wins",
        ),
        (
            Mode.OFF, "default", DebugFlag("Flask's app.debug", True, follow=False), True,
            "debugpages: mode off (from default), although Flask's app.debug is True: default "
            "(follow_debug=False) wins",
        ),
    ],
)  # fmt: skip
def test_a_mode_against_the_framework_flag_is_a_warning_naming_the_winner(
    mode: Mode, source: str, flag: DebugFlag | None, warn: bool, line: str
) -> None:
    assert announcement(mode, source, flag) == (warn, line)
