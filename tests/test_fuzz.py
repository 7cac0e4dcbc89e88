"""Hypothesis against every output: what goes in never leaks out of ``off``, never
escapes its place in HTML, and never breaks JSON.

Arbitrary text goes into the exception message, a local variable, the path, the
query string, a header value and the failing file's name.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from debugpages import ErrorPages
from debugpages.policy import safe_text

from .test_security import Tags, call, parse

FORMATS = ("text/html", "application/json", "text/plain")
# Markup, quotes, entities, controls, surrogates, bidi: then anything at all.
NASTY = st.sampled_from(list("<>&\"'=/`;:{}%\\\x00\n\r\t\u202e\ud800\udfff\x85\u2028é😀 "))
ATTACKS = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</textarea><b>", "</pre>",
    "\"><i title=\"", "'><u onclick='", "<!--", "-->", "<![CDATA[", "&lt;", "&#60;", "</style>",
    '{"status": 200}', '","status":200,"x":"', "\\u0022", "{{ page }}", "{% raw %}",
])  # fmt: skip
PIECES = st.one_of(ATTACKS, st.text(st.one_of(NASTY, st.characters()), max_size=10))
TEXT = st.lists(PIECES, min_size=1, max_size=5).map("".join).filter(bool)
SECRET_LIKE = TEXT.filter(lambda text: len(text) >= 8)
HEADER = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), min_size=1, max_size=40)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@dataclass(frozen=True)
class Inputs:
    message: str
    local: str
    path: str
    query: str
    header: str
    filename: str = "app.py"

    def all(self) -> Iterable[str]:
        return (self.message, self.local, self.path, self.query, self.header)


def failing(inputs: Inputs) -> Any:
    """An app whose failing frame runs in a file called ``inputs.filename``."""
    source = "def fail(message, value):\n    local_value = value\n    raise ValueError(message)\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, inputs.filename, "exec"), namespace)
    fail = namespace["fail"]

    def app(environ: object, start_response: object) -> list[bytes]:
        fail(inputs.message, inputs.local)
        return []

    return app


def environ_for(inputs: Inputs, accept: str) -> dict[str, Any]:
    path = "/" + urllib.parse.quote(inputs.path.encode("utf-8", "surrogatepass"), safe="")
    query = "q=" + urllib.parse.quote(inputs.query.encode("utf-8", "surrogatepass"), safe="")
    environ = EnvironBuilder(path=path, query_string=query).get_environ()
    environ["HTTP_ACCEPT"] = accept
    environ["HTTP_X_INPUT"] = inputs.header
    return environ


def forms(text: str) -> set[str]:
    """How a string could show up in a body: as it is, HTML-escaped, JSON-escaped."""
    return {text, html.escape(text), json.dumps(text)[1:-1], safe_text(text)}


def inputs_strategy(values: st.SearchStrategy[str]) -> st.SearchStrategy[Inputs]:
    return st.builds(Inputs, values, values, values, values, HEADER.filter(lambda h: len(h) >= 8))


@FUZZ
@given(inputs=inputs_strategy(SECRET_LIKE))
def test_the_production_page_contains_none_of_the_input_in_any_format(inputs: Inputs) -> None:
    pages = ErrorPages(failing(inputs), mode="off")
    for accept in FORMATS:
        status, _, body = call(pages, environ_for(inputs, accept))
        assert status == "500 Internal Server Error"
        text = body.decode("utf-8")
        for value in inputs.all():
            for form in forms(value):
                if form in STATIC[accept]:
                    continue  # "Internal", "error"...: words the page itself says
                assert form not in text, (accept, value)


def harmless_pages(mode: str) -> dict[str, str]:
    """The page for a harmless failure, per format: the words every such page says anyway."""
    plain = Inputs("x", "x", "x", "x", "xxxxxxxx")
    pages = ErrorPages(failing(plain), mode=mode)
    return {
        accept: call(pages, environ_for(plain, accept))[2].decode("utf-8") for accept in FORMATS
    }


STATIC = harmless_pages("off")

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "h1", "h2",
    "h3", "p", "ul", "li", "code", "section", "details", "summary", "span", "pre", "mark",
    "table", "caption", "tr", "th", "td", "button", "textarea", "script", "div", "strong",
    "a", "label", "nav", "time", "input", "ol",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "lang", "charset", "name", "content", "nonce", "class", "role", "open", "title", "type",
    "id", "hidden", "readonly", "aria-label", "aria-labelledby", "checked", "datetime", "for",
    "href", "scope", "start",
}  # fmt: skip


def assert_structure_intact(tags: Tags, nonce: str) -> None:
    names = [tag for tag, _ in tags.tags]
    assert set(names) <= ALLOWED_TAGS
    assert names.count("script") == 1
    assert names.count("style") == 1
    for tag, attrs in tags.tags:
        assert set(attrs) <= ALLOWED_ATTRIBUTES, (tag, attrs)
        if tag in ("script", "style"):
            assert attrs["nonce"] == nonce


@FUZZ
@given(inputs=inputs_strategy(TEXT), filename=TEXT)
def test_no_input_escapes_its_place_in_the_traceback_page(inputs: Inputs, filename: str) -> None:
    assume("\x00" not in filename)
    # CPython's linecache raises on a surrogate that no file system name can hold
    # (surrogateescape's U+DC80-U+DCFF are fine): compile() alone can make such a file.
    assume(not any(0xD800 <= ord(c) < 0xDC80 or 0xDD00 <= ord(c) <= 0xDFFF for c in filename))
    assume("://" not in inputs.message + filename)  # credentials-in-URL masking would change it
    inputs = Inputs(*list(inputs.all()), filename=filename)  # type: ignore[misc]
    status, headers, body = call(
        ErrorPages(failing(inputs), mode="on"), environ_for(inputs, "text/html")
    )
    assert status == "500 Internal Server Error"
    nonce = dict(headers)["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    page = body.decode("utf-8")
    tags = parse(page)
    assert_structure_intact(tags, nonce)
    # What the browser shows is the message itself: escaped once, neither lost nor doubled.
    shown = "".join(tags.text)
    assert f"ValueError: {safe_text(inputs.message)}" in shown.replace("\r\n", "\n") or (
        "\r" in inputs.message  # the HTML parser folds carriage returns
    )
    titles = [attrs.get("title") for tag, attrs in tags.tags if tag == "code" and "title" in attrs]
    assert safe_text(filename) in titles


@FUZZ
@given(inputs=inputs_strategy(TEXT), mode=st.sampled_from(["off", "on", "legacy-200"]))
def test_json_always_parses(inputs: Inputs, mode: str) -> None:
    _, headers, body = call(
        ErrorPages(failing(inputs), mode=mode), environ_for(inputs, "application/json")
    )
    problem = json.loads(body)
    assert problem["status"] == 500
    assert dict(headers)["Content-Type"] == "application/problem+json"
    if mode != "off" and "://" not in inputs.message:
        assert problem["exception"]["message"] == safe_text(inputs.message)
        shown_local = [
            v["text"]
            for frame in problem["exception"]["frames"]
            for v in frame["variables"] or []
            if v["name"] == "local_value"
        ]
        assert shown_local


BASELINE_ON = harmless_pages("on")


def secret_app(secret: str) -> Any:
    def app(environ: object, start_response: object) -> list[bytes]:
        api_secret = secret
        holder = {"copy": secret, "nested": [secret]}  # noqa: F841
        raise ValueError(f"failed with {api_secret!r} and {secret}")

    return app


@FUZZ
@given(secret=SECRET_LIKE)
def test_a_secret_never_comes_out_of_the_traceback_page_in_any_form(secret: str) -> None:
    assume(secret.strip("*") == secret and "\x00" not in secret)
    for accept in FORMATS:
        for form in forms(secret) | {repr(secret)[1:-1]}:
            assume(form not in BASELINE_ON[accept])
    pages = ErrorPages(secret_app(secret), mode="on")
    for accept in FORMATS:
        status, _, body = call(pages, environ_for(Inputs("m", "l", "p", "q", "hhhhhhhh"), accept))
        assert status == "500 Internal Server Error"
        text = body.decode("utf-8")
        for form in forms(secret) | {repr(secret)[1:-1]}:
            assert form not in text, (accept, form)


UNSAFE = [
    *map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]),  # C0, DEL, C1
    *map(chr, range(0xD800, 0xE000)),  # lone surrogates
    *map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]),  # bidi controls
]


def test_every_unsafe_character_is_escaped_wherever_it_stands() -> None:
    for char in UNSAFE:
        for text in (char, f"plain {char} text", "é" * 3 + char):
            shown = safe_text(text)
            assert char not in shown, repr(char)
            assert shown.isascii() or "é" in shown
    assert all(safe_text(c) == c for c in ("\t", "\n", " ", "é", "😀", "\u00a0", "x" * 100))
