"""Where a template failed: Jinja's and Django's template errors, read from the capture.

Jinja rewrites each frame of a failing template into one that points at the template
(its file, its line, a name such as ``block 'body'``), with the render's context as its
locals; its ``TemplateSyntaxError`` carries the name, file, line and source. Django
attaches ``template_debug`` to the exception when its engine runs in debug; without it,
the template and the failing node are still the ``self`` of Django's own frames.

Read in the model step, while the capture holds the frames; nothing is imported here:
a template engine that is not loaded raised nothing.
"""

from __future__ import annotations

import linecache
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from .capture import Capture, Captured
from .sources import refusal

_JINJA_MARK = "__jinja_exception__"
"""A global of the frames Jinja makes to stand for template code (``jinja2/debug.py``)."""
_AROUND = 50
"""Lines kept on each side of the failing one, at most."""
_MACRO = re.compile(r"\{%[-+]?\s*(?:(macro)\s+(\w+)|(endmacro)\b)")


@dataclass(frozen=True, slots=True)
class Spot:
    """Where in a template an exception was raised, as read: unmasked, unbounded."""

    engine: str
    """``"Jinja"`` or ``"Django"``."""
    name: str
    """The template's name as it was loaded (``shop/cart.html``), else its file."""
    filename: str
    """Its file, or ``""`` when it has none (a template made from a string)."""
    line: int
    lines: Sequence[str]
    """The template's source from line ``first`` on, one string a line (empty when it
    cannot be read)."""
    span: tuple[int, int] | None = None
    """The failing token's characters on ``line``, when the engine says which."""
    first: int = 1
    """The number of ``lines[0]``: 1, but for Django's ``template_debug``, which holds
    only the lines around the failing one."""


def is_template_frame(frame: FrameType | None) -> bool:
    """Whether ``frame`` is one Jinja made to stand for a template's code."""
    return frame is not None and _JINJA_MARK in frame.f_globals


def function_name(frame: FrameType, line: int) -> str:
    """A template frame's name as CPython prints it (``block 'body'``, ``top-level
    template code``), or ``macro 'name'`` where CPython says only ``template``."""
    name = frame.f_code.co_name
    if name == "template" and frame.f_locals:  # a macro's; a syntax error's has no locals
        macro = _enclosing_macro(linecache.getlines(frame.f_code.co_filename), line)
        if macro:
            return f"macro {macro!r}"
    return name


def _enclosing_macro(lines: Sequence[str], line: int) -> str | None:
    """The ``{% macro %}`` whose body holds ``line``, read back from it."""
    depth = 0
    for text in reversed(lines[:line]):
        for found in reversed(_MACRO.findall(text)):
            if found[2]:
                depth += 1
            elif depth:
                depth -= 1
            else:
                return str(found[1])
    return None


def find(capture: Capture) -> Spot | None:
    """The template the failure happened in: the first exception of the chain (the
    last raised first) that a template raised, or ``None``."""
    for captured in _in_print_order(capture):
        spot = _jinja(captured) or _django(captured)
        if spot is not None:
            return spot
    return None


def _in_print_order(capture: Capture) -> Iterator[Captured]:
    """The exception, then what it was raised from or while handling, and so on."""
    current: Captured | None = capture.top
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.cause or current.context


def _jinja(captured: Captured) -> Spot | None:
    """A ``TemplateSyntaxError``'s own place, else the innermost template frame's."""
    exc = captured.exc
    exceptions = sys.modules.get("jinja2.exceptions")
    syntax = getattr(exceptions, "TemplateSyntaxError", None)
    if isinstance(syntax, type) and isinstance(exc, syntax):
        said: dict[str, Any] = exc.__dict__  # what Jinja set: name, filename, lineno, source
        filename, line, source = _text(said.get("filename")), said.get("lineno"), said.get("source")
        if isinstance(line, int) and line > 0:
            lines = source.splitlines() if isinstance(source, str) else _file(filename)
            name = _text(said.get("name")) or filename or "<template>"  # Jinja's word
            return Spot("Jinja", name, filename, line, lines)
    for step in reversed(captured.steps):
        if is_template_frame(step.frame) and step.summary.lineno:
            filename = step.summary.filename
            return Spot("Jinja", filename, filename, step.summary.lineno, _file(filename))
    return None


def _django(captured: Captured) -> Spot | None:
    """Django's ``template_debug``, else what Django's frames hold."""
    base = sys.modules.get("django.template.base")
    if base is None:
        return None
    exc = captured.exc
    try:
        debug = exc.__dict__.get("template_debug") if exc is not None else None
    except Exception:
        debug = None
    spot = _from_debug(debug) if isinstance(debug, dict) else None
    return spot or _from_frames(captured, base)


def _from_debug(debug: dict[str, Any]) -> Spot | None:
    """Django's ``template_debug`` (``Template.get_exception_info``): the lines around the
    failing token, and that token's line cut in three."""
    name, line, numbered = debug.get("name"), debug.get("line"), debug.get("source_lines")
    before, during = debug.get("before"), debug.get("during")
    if not (isinstance(name, str) and isinstance(line, int) and isinstance(numbered, list)):
        return None
    lines: dict[int, str] = {}
    for entry in numbered:
        if isinstance(entry, tuple | list) and len(entry) == 2:
            number, text = entry
            if isinstance(number, int) and isinstance(text, str):
                lines[number] = text.rstrip("\r\n")
    if not lines or line not in lines:
        return None
    span = None
    if isinstance(before, str) and isinstance(during, str) and during:
        span = (len(before), len(before) + len(during))
    first = max(min(lines), line - _AROUND)
    shown = [lines.get(number, "") for number in range(first, min(max(lines), line + _AROUND) + 1)]
    while len(shown) > line - first + 1 and not shown[-1]:
        shown.pop()  # what follows the template's last line break
    filename = name if not name.startswith("<") else ""
    return Spot("Django", name, filename, line, shown, span, first)


def _from_frames(captured: Captured, base: Any) -> Spot | None:
    """Without ``template_debug`` (``DEBUG = False``): the innermost node that failed and
    the template it belongs to, from the ``self`` of Django's frames."""
    node_type, template_type = getattr(base, "Node", None), getattr(base, "Template", None)
    if not (isinstance(node_type, type) and isinstance(template_type, type)):
        return None
    owners = [  # Django's own frames: ``Node.render_annotated``, ``Template.render``...
        step.frame.f_locals.get("self")
        for step in reversed(captured.steps)
        if step.frame is not None
        and not step.running
        and str(step.frame.f_globals.get("__name__", "")).startswith("django.template.")
    ]
    templates = [owner for owner in owners if isinstance(owner, template_type)]
    token = getattr(captured.exc, "token", None)  # a syntax error's, set by Django's parser
    if _is_token(token, base):  # the template being compiled is the innermost one
        template = templates[0] if templates else None
        origin = getattr(template, "origin", None)
    else:  # the innermost node failed; it belongs to a template rendering it
        node = next((owner for owner in owners if isinstance(owner, node_type)), None)
        token, origin = getattr(node, "token", None), getattr(node, "origin", None)
        same = [t for t in templates if getattr(t, "origin", None) == origin]
        template = same[0] if same else None
    if not _is_token(token, base) or origin is None:
        return None
    assert token is not None
    line = token.lineno
    if not isinstance(line, int) or line < 1:
        return None
    source = getattr(template, "source", None)
    filename = _text(getattr(origin, "name", ""))
    lines = source.splitlines() if isinstance(source, str) else _file(filename)
    span = _span(source, token.position, line) if isinstance(source, str) else None
    if span is None and 0 < line <= len(lines):
        span = _tag_of(lines[line - 1], token.contents)
    name = _text(getattr(origin, "template_name", None)) or filename
    return Spot("Django", name, filename if not filename.startswith("<") else "", line, lines, span)


def _is_token(token: object, base: Any) -> bool:
    token_type = getattr(base, "Token", None)
    return isinstance(token_type, type) and isinstance(token, token_type)


def _span(source: str, position: object, line: int) -> tuple[int, int] | None:
    """A token's ``(start, end)`` in the source, as characters on its line."""
    if not (isinstance(position, tuple) and len(position) == 2):
        return None
    start, end = position
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
        return None
    line_start = 0
    for _ in range(line - 1):
        line_start = source.find("\n", line_start) + 1
        if line_start == 0:
            return None
    line_end = source.find("\n", line_start)
    if line_end < 0:
        line_end = len(source)
    if not line_start <= start < end <= line_end:
        return None
    return start - line_start, end - line_start


def _tag_of(text: str, contents: object) -> tuple[int, int] | None:
    """Where the tag holding ``contents`` is on its line: Django's plain lexer (without
    ``debug``) keeps no positions."""
    if not isinstance(contents, str) or not contents or contents not in text:
        return None
    at = text.find(contents)
    start = max(text.rfind("{{", 0, at + 1), text.rfind("{%", 0, at + 1))
    if start < 0:
        return None
    end = text.find("}}" if text.startswith("{{", start) else "%}", at + len(contents))
    return (start, end + 2) if end >= 0 else None


def _file(filename: str) -> list[str]:
    """The lines of a template's file; none from a file that is not safe to read (a FIFO,
    a device, a huge file: an exception may name any file)."""
    if not filename or refusal(filename) is not None:
        return []
    return [line.rstrip("\r\n") for line in linecache.getlines(filename)]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
