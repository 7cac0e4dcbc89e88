"""The ``debugpages`` command: serve an app, check templates, preview pages, tour the demo."""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import ipaddress
import logging
import os
import re
import secrets
import socket
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.serving import get_sockaddr, run_simple, select_address_family

from . import __version__
from .check import FORMATS, Checker, render_failures, render_failures_logged, sample_page
from .config import folders
from .respond import Engine, new_reference
from .switch import ACCEPTED, ConfigurationError, Mode, resolve_mode
from .wsgi import ErrorPages

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

_TARGET = re.compile(r"(?P<module>[\w.]+)(?::(?P<name>[\w.]+)(?P<call>\(\))?)?")
_LOG_FORMAT = "%(levelname)s %(message)s"
"""The servers' log lines: debugpages' own messages start with "debugpages:", werkzeug's
request lines are as its own server prints them."""


class UsageError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``debugpages`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (UsageError, ConfigurationError) as error:
        print(f"debugpages {args.command}: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="debugpages", description="The pages a Python web app sends when something fails."
    )
    parser.add_argument("--version", action="version", version=f"debugpages {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modes = [mode.value for mode in Mode]

    serve = commands.add_parser(
        "serve",
        help="serve a WSGI app on werkzeug's development server, with debugpages around it",
        description="Serve MODULE:APP (or MODULE:FACTORY(), or MODULE for MODULE:app) on "
        "werkzeug's development server, wrapped in ErrorPages. The mode is --mode, else "
        "DEBUGPAGES, else on.",
    )
    serve.add_argument("target", metavar="MODULE:APP", help="e.g. myapp:app or myapp:create_app()")
    _address(serve)
    serve.add_argument("--reload", action="store_true", help="restart when a source file changes")
    serve.add_argument(
        "--mode", help=f"one of {', '.join(ACCEPTED)} (default: DEBUGPAGES, else on)"
    )
    serve.set_defaults(run=_serve)

    check = commands.add_parser(
        "check",
        help="render every template in every mode and format; exit 1 on any problem",
        description="Render every page debugpages would send, from the built-in templates and "
        "yours, with sample and hostile data; report templates that fail, off pages that show "
        "more than status, title and reference, secrets shown and unescaped HTML.",
    )
    _template_dirs(check)
    check.set_defaults(run=_check)

    preview = commands.add_parser(
        "preview",
        help="print the page a failing request would get",
        description="Print the page sent for STATUS (a sample exception for 5xx in on).",
    )
    preview.add_argument("status", type=int, metavar="STATUS", help="an HTTP status, 400 to 599")
    preview.add_argument("--mode", choices=modes, default="off", help="default off")
    preview.add_argument("--format", choices=list(FORMATS), default="html", help="default html")
    _template_dirs(preview)
    preview.set_defaults(run=_preview)

    demo = commands.add_parser("demo", help="serve the demo: one app, in all three modes")
    _address(demo)
    demo.set_defaults(run=_demo)
    return parser


def _address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default 5000)")


def _template_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template-dir",
        action="append",
        default=[],
        metavar="DIR",
        dest="template_dirs",
        help="a folder of your templates, before the built-in ones (repeatable)",
    )


def load_app(target: str) -> WSGIApplication:
    """Import ``module:name`` (or call ``module:factory()``); a bad target is a UsageError."""
    match = _TARGET.fullmatch(target)
    if match is None:
        raise UsageError(f"{target!r} is not MODULE:APP (e.g. myapp:app or myapp:create_app())")
    module_name, name = match["module"], match["name"] or "app"
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: the app sits where we run
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if not (module_name == missing or module_name.startswith(f"{missing}.")):
            raise  # the app's own import failed: its traceback says more than one line
        raise UsageError(f"no module named {missing!r} (from {target!r})") from None
    for part in name.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module {module_name!r} has no attribute {name!r} (from {target!r})")
        obj = getattr(obj, part)
    if match["call"]:
        obj = obj()
    if not callable(obj):
        raise UsageError(f"{target!r} is a {type(obj).__name__}, not a WSGI application")
    return obj  # type: ignore[no-any-return]


def wrapped_pages(app: object) -> ErrorPages | None:
    """The ``ErrorPages`` an application already holds: itself, or a Flask app's."""
    if isinstance(app, ErrorPages):
        return app
    extensions = getattr(app, "extensions", None)
    found = extensions.get("debugpages") if isinstance(extensions, dict) else None
    return found if isinstance(found, ErrorPages) else None


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _serve(args: argparse.Namespace) -> int:
    mode, source = resolve_mode(args.mode, default=Mode.ON)
    reloaded = bool(os.environ.get("WERKZEUG_RUN_MAIN"))  # the reloader's child, restarted
    watch: list[str] = []
    try:
        app = load_app(args.target)
    except Exception as error:
        if not reloaded:  # at start: a mistake in the command or the app, said at once
            if isinstance(error, UsageError):
                raise
            traceback.print_exc()
            print(f"debugpages serve: error: importing {args.target!r} failed", file=sys.stderr)
            return 1
        # An edit broke the app: serve the failure until the next edit (as flask run does).
        traceback.print_exc()
        print(
            f"debugpages serve: importing {args.target!r} failed; every request gets that "
            "failure's page until a change to the source fixes it",
            file=sys.stderr,
            flush=True,
        )
        app = failing_app(error)
        if isinstance(error, SyntaxError) and error.filename:
            watch.append(error.filename)  # never imported: no module names it to the reloader
    if not reloaded:  # once, not again in the reloader's child
        _check_port(args.host, args.port, "--port")
        print(
            f"debugpages: serving {args.target} on {_url(args.host, args.port)} in mode "
            f"{mode.value} (from {source}); Ctrl-C stops it",
            flush=True,
        )
        inner = wrapped_pages(app)
        if inner is not None and inner.mode is not mode:
            print(
                f"debugpages serve: warning: {args.target} already wraps itself in debugpages, "
                f"in mode {inner.mode.value}: its pages answer first, so failures get mode "
                f"{inner.mode.value}'s page, not {mode.value}'s; choose the mode where the app "
                f"sets up debugpages (mode=, DEBUGPAGES)",
                file=sys.stderr,
                flush=True,
            )
        if mode is not Mode.OFF and not is_loopback(args.host):
            print(
                f"debugpages: warning: mode {mode.value} shows tracebacks, locals and request "
                f"data to anyone who can reach {args.host}; bind 127.0.0.1 or use --mode off",
                file=sys.stderr,
                flush=True,
            )
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    wrapped = ErrorPages(app, args.mode, default=Mode.ON)
    _run(args.host, args.port, wrapped, reload=args.reload, watch=watch)
    print("debugpages: stopped")
    return 0


def failing_app(error: BaseException) -> WSGIApplication:
    """A WSGI app that raises ``error`` on every request, with the traceback it was raised with."""
    raised = error.__traceback__

    def app(environ: Any, start_response: Any) -> Any:
        __traceback_hide__ = True  # the failure is the import's, not this frame's
        raise error.with_traceback(raised)  # not a traceback grown by one frame per request

    return app


def _check_port(host: str, port: int, how: str) -> None:
    """A port another program holds is a one-line UsageError saying ``how`` to pick
    another, before the banner (werkzeug would say so in two lines, after it)."""
    family = select_address_family(host, port)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind(get_sockaddr(host, port, family))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                message = f"port {port} is in use on {host}: pick another with {how}"
                raise UsageError(message) from None
            # Anything else (an address this machine lacks): werkzeug reports it.


def _run(
    host: str, port: int, app: WSGIApplication, reload: bool = False, watch: Sequence[str] = ()
) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        run_simple(host, port, app, use_reloader=reload, extra_files=watch)


def _check(args: argparse.Namespace) -> int:
    folders(args.template_dirs, "--template-dir")  # the option's name in the error
    checker = Checker(args.template_dirs)
    problems = checker.run()
    for problem in problems:
        print(f"FAIL {problem}")
    summary = f"{checker.pages} pages from {len(checker.templates)} templates"
    if problems:
        print(f"debugpages check: {len(problems)} problems in {summary}")
        return 1
    print(f"debugpages check: no problems in {summary}")
    return 0


def _preview(args: argparse.Namespace) -> int:
    if not 400 <= args.status <= 599:
        raise UsageError(f"STATUS must be an error status, 400 to 599 (not {args.status})")
    folders(args.template_dirs, "--template-dir")
    engine = Engine(Mode(args.mode), args.template_dirs)
    page = sample_page(engine, args.status, reference=new_reference())
    with render_failures_logged() as failures:
        body = engine.render(page, FORMATS[args.format], secrets.token_urlsafe(16))
    sys.stdout.write(body)
    for location, what in render_failures(failures):
        print(f"debugpages preview: error: {location or 'a template'}: {what}", file=sys.stderr)
    if failures:
        print("debugpages preview: the page above is the fallback, not yours", file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import make_demo

    _check_port(args.host, args.port, "--port (make demo PORT=8000)")
    logging.basicConfig(level=logging.INFO, format=_LOG_FORMAT)
    app = make_demo()
    print(f"debugpages demo on {_url(args.host, args.port)} (Ctrl-C stops it)", flush=True)
    _run(args.host, args.port, app)
    print("debugpages demo stopped")
    return 0
