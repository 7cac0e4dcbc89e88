"""The ``debugpages`` command."""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Sequence

from werkzeug.serving import run_simple

from . import __version__
from .demo import make_demo


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``debugpages`` command line."""
    parser = argparse.ArgumentParser(prog="debugpages", description=__doc__)
    parser.add_argument("--version", action="version", version=f"debugpages {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="serve the demo: one app, in all three modes")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=5000, help="port to bind (default 5000)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = make_demo()
    print(f"debugpages demo on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        run_simple(args.host, args.port, app)
    print("debugpages demo stopped")
    return 0
