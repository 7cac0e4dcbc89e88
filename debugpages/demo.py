"""The demo: one small app failing in typical ways, mounted once per mode."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import jinja2
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from .render import BUILTIN_TEMPLATES
from .switch import Mode
from .wsgi import ErrorPages

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ROUTES = {
    "plain": "a plain TypeError in the application's own code",
    "chained": "an error raised while handling another, then re-raised with from",
    "group": "an exception group with a nested group and notes",
    "recursion": "a RecursionError (about a thousand frames, collapsed)",
    "missing": "an HTTP 404 raised with werkzeug's NotFound",
    "nowhere": "a URL no route matches (werkzeug's router raises NotFound)",
}


def load_order(order_id: str) -> Any:
    orders = {"1": {"id": 1, "items": ["tea", "cake"], "total": 7.5}}
    return orders[order_id]


def order_total(order_id: str) -> float:
    order = load_order(order_id)
    discount = order.get("discount")
    return float(order["total"] * (1 - discount))


def chained() -> None:
    settings = {"currency": "EUR"}
    try:
        settings["rate"]
    except KeyError:
        try:
            int("twelve")
        except ValueError as exc:
            raise RuntimeError("could not read the exchange rate") from exc


def group() -> None:
    errors: list[Exception] = []
    for name in ("alice", "bob"):
        try:
            raise ValueError(f"no mailbox for {name}")
        except ValueError as exc:
            exc.add_note(f"while sending the newsletter to {name}")
            errors.append(exc)
    nested = ExceptionGroup("retries failed", [TimeoutError("smtp.example.org timed out")])
    raise ExceptionGroup("newsletter not sent", [*errors, nested])


def countdown(n: int) -> int:
    return countdown(n - 1) + 1


def make_app() -> WSGIApplication:
    """The failing app, alone."""
    urls = Map([Rule("/", endpoint="index"), *(Rule(f"/{name}", endpoint=name) for name in ROUTES)])

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # A bare WSGI app, so that every exception (the 404 too) reaches ErrorPages.
        endpoint, _ = urls.bind_to_environ(environ).match()
        if endpoint == "index":
            return index()(environ, start_response)
        if endpoint == "plain":
            return Response(str(order_total("1")))(environ, start_response)
        if endpoint == "chained":
            chained()
        if endpoint == "group":
            group()
        if endpoint == "recursion":
            countdown(10)
        raise NotFound("There is no such page in the demo; try the index.")

    return app


def index() -> Response:
    """The page that links every failing route in every mode."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(BUILTIN_TEMPLATES), autoescape=True)
    page = env.get_template("demo.html").render(routes=ROUTES, modes=[mode.value for mode in Mode])
    return Response(page, content_type="text/html; charset=utf-8")


def make_demo() -> WSGIApplication:
    """The demo site: the same app under ``/off/``, ``/on/`` and ``/legacy-200/``."""
    mounts: dict[str, WSGIApplication] = {
        f"/{mode.value}": ErrorPages(make_app(), mode) for mode in Mode
    }

    def root(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        page = index() if environ.get("PATH_INFO", "/") == "/" else NotFound()
        return page(environ, start_response)

    return DispatcherMiddleware(root, mounts)
