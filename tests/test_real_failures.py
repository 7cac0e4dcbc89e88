"""The failures developers spend their time on, through real frameworks: a broken edit met at
request time (SyntaxError and its kin), Python's own message ("Did you mean"), and locals that
go to the application's frames under a template engine's."""

from __future__ import annotations

import html
import importlib
import json
import re
import subprocess
import sys
import traceback
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client

from debugpages import ASGIErrorPages, ErrorPages
from debugpages.suggestions import distance

from . import (
    django_site,  # noqa: F401  (configures Django for the test client)
    failing_site,
)
from .frameworks import ROOT, running

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``failing_site.BROKEN`` with a SyntaxError, in a folder on the path that is also the
    current folder (so the page shows its file as ``pricing_broken.py``)."""
    module = tmp_path / f"{failing_site.BROKEN}.py"
    module.write_text(failing_site.SYNTAX_ERROR)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    importlib.invalidate_caches()
    yield module
    sys.modules.pop(failing_site.BROKEN, None)


def printed_by_python(source: str, folder: Path, name: str = "snippet") -> list[str]:
    """What the interpreter itself prints when ``source``, run as a script, fails: the
    lines from the innermost ``File`` line on (a SyntaxError's file, line and carets, or
    the innermost frame's; then the message)."""
    script = folder / f"{name}.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=folder
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.rstrip("\n").split("\n")
    return lines[max(i for i, line in enumerate(lines) if line.startswith("  File ")) :]


def header(page: str) -> str:
    """The traceback page's header, its markup taken out and its text unescaped."""
    start, end = page.index('<h1 class="type">'), page.index('<ul class="meta">')
    return html.unescape(re.sub(r"<[^>]+>", "", page[start:end]))


def frame_locals(page: str, function: str) -> list[str] | None:
    """The names of the locals a frame shows (``None``: no locals table), by function."""
    for part in page.split('<details class="frame')[1:]:
        summary = part[: part.index("</summary>")]
        if f"<code>{html.escape(function)}</code>" in summary:
            body = part[: part.index("</details>")]
            if '<table class="locals">' not in body:
                return None
            return re.findall(r'<th scope="row"><code>([^<]*)</code>', body)
    raise AssertionError(f"no frame of {function} on the page")


# SyntaxError, IndentationError, TabError: the header says where, as Python prints it.

SYNTAX_CASES = {
    "syntax": failing_site.SYNTAX_ERROR,
    "indentation": "def total(basket):\nreturn sum(basket)\n",
    "unexpected-indent": "rate = 1\n    total = 2\n",
    "tabs": "if True:\n\trate = 1\n        total = 2\n",
    "in-a-string": "x = 'no end\n",
}


@pytest.mark.parametrize("source", SYNTAX_CASES.values(), ids=SYNTAX_CASES.keys())
def test_a_syntax_error_header_shows_the_file_line_and_carets_as_python_prints_them(
    source: str, broken: Path
) -> None:
    broken.write_text(source)
    try:
        importlib.import_module(failing_site.BROKEN)
    except SyntaxError as error:
        # '  File ".../pricing_broken.py", line 5', '    <line>', '    <carets>', 'Type: msg'
        where, *code, last = "".join(traceback.format_exception_only(error)).splitlines()
    pages = Client(ErrorPages(_importing_app, mode="on"))
    page = pages.get("/", headers=HTML)
    assert page.status_code == 500
    shown = header(page.get_data(as_text=True))
    line = re.fullmatch(r'  File "(.*)", line (\d+)', where)
    assert line is not None
    assert line[1] == str(broken)
    kind, _, message = last.partition(": ")
    assert shown.startswith(f"{kind}\n{message}\nFile {broken.name}, line {line[2]}\n")
    assert shown.endswith("".join(f"{text.removeprefix('    ')}\n" for text in code))
    assert f'title="{html.escape(str(broken))}"' in page.get_data(as_text=True)  # on hover
    syntax = json.loads(pages.get("/", headers=JSON).data)["exception"]["syntax"]
    assert (syntax["path"], syntax["line"]) == (str(broken), int(line[2]))
    text = pages.get("/", headers=TEXT).get_data(as_text=True)
    assert "\n".join([where, *code, last]) in text  # the text copy: Python's own lines
    # The interpreter itself names the same file, line and message.
    python = printed_by_python(f"import {failing_site.BROKEN}\n", broken.parent, "main")
    assert (python[0], python[-1]) == (where, last)


def _importing_app(environ: object, start_response: object) -> list[bytes]:
    basket = ["tea", "cake"]  # noqa: F841
    importlib.import_module(failing_site.BROKEN)
    return []


def test_a_syntax_error_line_with_a_secret_is_masked_and_loses_its_carets(
    broken: Path,
) -> None:
    broken.write_text("def pay(api_key='sk-live-4f3c9a8b7e6d'):\n    return (api_key\n")

    def app(environ: object, start_response: object) -> list[bytes]:
        api_key = "sk-live-4f3c9a8b7e6d"  # noqa: F841  (a secret by name: masked everywhere)
        importlib.import_module(failing_site.BROKEN)
        return []

    broken.write_text("key = 'sk-live-4f3c9a8b7e6d' +\n")
    body = Client(ErrorPages(app, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    assert "sk-live-4f3c9a8b7e6d" not in body
    shown = header(body)
    assert "key = '********' +" in shown
    assert "^" not in shown  # the carets would point at the mask


# Python's own message: the last line it prints, "Did you mean" included, on every version.

MESSAGES = {
    "name": "def checkout():\n    basket_total = 3\n    return basket_totl\ncheckout()\n",
    "attribute": (
        "class Basket:\n    total = 3\n\ndef checkout():\n    return Basket().totl\ncheckout()\n"
    ),
    "module-attribute": "import os\n\ndef checkout():\n    return os.pth\ncheckout()\n",
    "no-suggestion": "def checkout():\n    return zzyzx_qwerty\ncheckout()\n",
    "unbound-local": (
        "def checkout():\n    totals = 1\n    print(total)\n    total = 2\ncheckout()\n"
    ),
    "hostile-dir": (
        "class Sneaky:\n    def __dir__(self):\n        raise RuntimeError('no dir')\n\n"
        "def checkout():\n    return Sneaky().totl\ncheckout()\n"
    ),
    "too-many-candidates": (
        "class Wide:\n    pass\n\nfor i in range(800):\n    setattr(Wide, f'total{i}', i)\n\n"
        "def checkout():\n    return Wide().total1x\ncheckout()\n"
    ),
    "multi-line": "raise ValueError('first line\\nsecond line')\n",
    "empty": "raise KeyError()\n",
}


@pytest.mark.parametrize("source", MESSAGES.values(), ids=MESSAGES.keys())
def test_the_header_says_what_python_prints_for_the_exception(source: str, tmp_path: Path) -> None:
    printed = printed_by_python(source, tmp_path)[1:]  # the innermost frame's lines, then
    expected = "\n".join(printed[[line[:1] == " " for line in printed].index(False) :])

    def app(environ: object, start_response: object) -> list[bytes]:
        exec(compile(source, str(tmp_path / "snippet.py"), "exec"), {"__name__": "__main__"})
        return []

    pages = Client(ErrorPages(app, mode="on"))
    body = pages.get("/", headers=HTML).get_data(as_text=True)
    kind, _, message = expected.partition(": ")
    shown = header(body)
    assert shown.startswith(f"{kind}\n{message}\n"), (shown, expected)
    text = pages.get("/", headers=TEXT).get_data(as_text=True)
    assert f"\n{expected}\n" in text  # the text copy agrees with the header
    assert json.loads(pages.get("/", headers=JSON).data)["exception"]["message"] == message


@pytest.mark.skipif(sys.version_info < (3, 12), reason="3.12's traceback is the reference")
@given(st.text("abcdeABCDE_1", max_size=12), st.text("abcdeABCDE_1", max_size=12))
def test_the_3_11_suggestion_distance_is_the_one_later_pythons_compute(a: str, b: str) -> None:
    limit = (len(a) + len(b) + 3) * 2 // 6
    reference = traceback._levenshtein_distance(a, b, limit)  # type: ignore[attr-defined]
    assert distance(a.encode(), b.encode(), limit) == reference


@settings(max_examples=60, deadline=None)
@given(
    message=st.text(max_size=40),
    filename=st.one_of(st.none(), st.text(max_size=30)),
    lineno=st.one_of(st.none(), st.integers(-5, 10**6)),
    offset=st.one_of(st.none(), st.integers(-5, 60)),
    end_offset=st.one_of(st.none(), st.integers(-5, 60)),
    text=st.one_of(st.none(), st.text(max_size=60)),
)
def test_any_syntax_error_gets_a_page_whose_line_and_carets_are_pythons(
    message: str,
    filename: str | None,
    lineno: int | None,
    offset: int | None,
    end_offset: int | None,
    text: str | None,
) -> None:
    error = SyntaxError(message, (filename, lineno, offset, text, lineno, end_offset))

    def app(environ: object, start_response: object) -> list[bytes]:
        raise error

    response = Client(ErrorPages(app, mode="on")).get("/", headers=JSON)
    assert response.status_code == 500
    shown = json.loads(response.data)["exception"]
    printed = traceback.format_exception_only(error)
    assert f"SyntaxError: {shown['message']}\n" == printed[-1] or not printed[-1].isprintable()
    syntax = shown["syntax"]
    assert (syntax is None) is (lineno is None)
    if syntax is not None and printed[0].startswith("  File ") and len(printed) > 2:
        python = [line.removeprefix("    ").rstrip("\n") for line in printed[1:-1]]
        if python[0].isprintable() and len(python[0]) < 300:
            assert syntax["text"] == python[0]
            assert syntax["caret"] == (python[1] if len(python) > 1 else "")


# Locals go to the application's frames first.


@pytest.fixture
def django_client() -> Iterator[DjangoClient]:
    with override_settings(ROOT_URLCONF="tests.failing_site", DEBUGPAGES={"MODE": "on"}):
        yield DjangoClient(raise_request_exception=False)


def test_a_django_view_under_twenty_template_engine_frames_keeps_its_locals(
    django_client: DjangoClient,
) -> None:
    response = django_client.get("/dashboard", headers=HTML)
    assert response.status_code == 500
    page = response.content.decode()
    engine_frames = page.count('<code class="path" title="') - page.count("tests/failing_site.py")
    assert engine_frames >= 20
    assert frame_locals(page, "dashboard_view") == ["customer", "invoice", "request", "template"]
    assert frame_locals(page, "Invoice.total") == ["self"]
    assert "Ada Lovelace" in page


def test_a_view_that_imports_a_broken_module_through_django(
    broken: Path, django_client: DjangoClient
) -> None:
    response = django_client.get("/checkout", headers=HTML)
    assert response.status_code == 500
    page = response.content.decode()
    shown = header(page)
    assert shown.startswith("SyntaxError\n'(' was never closed\n")
    assert f"File {broken.name}, line 5" in shown
    assert "return (sum(item.price for item in basket)\n" in shown
    assert re.search(r"\n {7}\^\n", shown)  # under the parenthesis, as Python prints it
    assert frame_locals(page, "checkout_view") == ["basket", "request"]
    assert frame_locals(page, "_find_and_load") is None  # <frozen importlib._bootstrap>
    assert "No source code is available for this frame." in page


def test_a_view_that_imports_a_broken_module_through_flask(broken: Path) -> None:
    response = failing_site.flask_app().test_client().get("/checkout", headers=HTML)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    shown = header(page)
    assert shown.startswith("SyntaxError\n'(' was never closed\n")
    assert f"File {broken.name}, line 5\n" in shown
    assert re.search(r"return \(sum\(item.price for item in basket\)\n {7}\^\n", shown)
    assert frame_locals(page, "flask_app.<locals>.checkout") == ["basket"]
    assert frame_locals(page, "_gcd_import") is None


def test_a_view_that_imports_a_broken_module_under_runserver(tmp_path: Path) -> None:
    (tmp_path / f"{failing_site.BROKEN}.py").write_text(failing_site.SYNTAX_ERROR)
    env = {"DJANGO_SETTINGS_MODULE": "tests.failing_site", "PYTHONPATH": f"{ROOT}:{tmp_path}"}
    argv = ["django", "runserver", "--noreload", "127.0.0.1:{port}"]
    with running(argv, tmp_path / "runserver.log", env=env, cwd=tmp_path) as server:
        page = _get(server.base + "/checkout", "text/html")
        text = _get(server.base + "/checkout", "text/plain")
    assert page[0] == 500
    shown = header(page[1])
    assert shown.startswith("SyntaxError\n'(' was never closed\n")
    assert f"File {failing_site.BROKEN}.py, line 5\n" in shown
    assert frame_locals(page[1], "checkout_view") == ["basket", "request"]
    django = f"Django {metadata.version('django')}"
    assert named(page[1]) == ([django], "tests.failing_site.checkout_view")
    assert f'{failing_site.BROKEN}.py", line 5\n' in text[1]
    assert "SyntaxError: '(' was never closed" in text[1]


def _get(url: str, accept: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_own_frames_are_not_counted_as_hidden_and_a_generator_hides_its_dot_zero() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        prices = ["1", "two"]
        return [str(sum(float(price) for price in prices)).encode()]

    page = Client(ErrorPages(app, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    assert not re.search(r"\d+ frames? hidden by", page)  # ErrorPages' own frame: no news
    [generator] = re.findall(r", in <code>([^<]*genexpr[^<]*)</code>", page)
    # its iterator, ".0", is Python's, not the developer's
    assert frame_locals(page, html.unescape(generator)) == ["price"]


# The framework and the view, in the header: those the failure went through, not those
# that happen to be installed (Flask, Django, Starlette and FastAPI all are, here).


def named(page: str) -> tuple[list[str], str | None]:
    """The frameworks the page's header names, and its "Raised during"."""
    frameworks = re.findall(r'<li class="framework">([^<]*)</li>', page)
    view = re.search(r'<p class="raised-during">Raised during <code>([^<]*)</code>', page)
    return frameworks, html.unescape(view[1]) if view else None


def test_a_flask_page_names_flask_and_the_endpoint_that_raised() -> None:
    client = failing_site.flask_app().test_client()
    page = client.get("/shop/pay", headers=HTML).get_data(as_text=True)
    flask = f"Flask {metadata.version('flask')}"
    assert named(page) == ([flask], "shop.pay")
    text = client.get("/shop/pay", headers=TEXT).get_data(as_text=True)
    assert f"Raised during: shop.pay\nFramework: {flask}\n" in text
    problem = json.loads(client.get("/shop/pay", headers=JSON).data)
    assert problem["frameworks"] == {"Flask": metadata.version("flask")}
    assert problem["raised_during"] == "shop.pay"


def test_a_django_page_names_django_and_the_view_that_raised(
    django_client: DjangoClient,
) -> None:
    page = django_client.get("/dashboard", headers=HTML).content.decode()
    django = f"Django {metadata.version('django')}"
    assert named(page) == ([django], "tests.failing_site.dashboard_view")
    problem = json.loads(django_client.get("/dashboard", headers=JSON).content)
    assert problem["frameworks"] == {"Django": metadata.version("django")}
    assert problem["raised_during"] == "tests.failing_site.dashboard_view"


def test_a_django_class_based_view_is_named_by_its_class(django_client: DjangoClient) -> None:
    page = django_client.get("/invoice", headers=HTML).content.decode()
    assert named(page) == (
        [f"Django {metadata.version('django')}"],
        "tests.failing_site.InvoiceView",
    )


def test_a_starlette_page_names_starlette_alone_and_the_endpoint() -> None:
    async def quote(request: Request) -> Response:
        raise ValueError("two euros")

    app = Starlette(routes=[Route("/quote", quote)])
    app.add_middleware(ASGIErrorPages, mode="on")
    page = TestClient(app).get("/quote", headers=HTML).text
    view = f"{__name__}.{test_a_starlette_page_names_starlette_alone_and_the_endpoint.__name__}"
    assert named(page) == ([f"Starlette {metadata.version('starlette')}"], f"{view}.<locals>.quote")


def test_a_fastapi_page_names_fastapi_starlette_and_the_endpoint() -> None:
    app = FastAPI()

    @app.get("/quote")
    async def quote() -> dict[str, float]:
        return {"price": float("two euros")}

    app.add_middleware(ASGIErrorPages, mode="on")
    page = TestClient(app).get("/quote", headers=HTML).text
    expected = [
        f"FastAPI {metadata.version('fastapi')}",
        f"Starlette {metadata.version('starlette')}",
    ]
    view = f"{__name__}.test_a_fastapi_page_names_fastapi_starlette_and_the_endpoint"
    assert named(page) == (expected, f"{view}.<locals>.quote")


def test_a_plain_wsgi_app_names_no_framework_though_all_are_installed() -> None:
    page = Client(ErrorPages(_importing_app, mode="on")).get("/", headers=HTML).get_data(True)
    assert named(page) == ([], None)
    assert "Framework:" not in Client(ErrorPages(_importing_app, mode="on")).get(
        "/", headers=TEXT
    ).get_data(as_text=True)
