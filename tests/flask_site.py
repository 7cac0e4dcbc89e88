"""A small Flask application with debugpages, as a user would write it.

``app`` (mode from ``DEBUGPAGES``) is what gunicorn serves in the tests.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, jsonify, render_template

import debugpages.flask

from . import apps


class OutOfStock(Exception):
    """An exception the application handles itself."""


def create_app(mode: str | None = None, **options: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(options.pop("config", {}))

    @app.get("/ok")
    def ok() -> str:
        return "fine"

    @app.get("/fail")
    def fail() -> str:
        return str(apps.price_of("tea"))

    @app.get("/out-of-stock")
    def out_of_stock() -> str:
        raise OutOfStock("no more tea")

    @app.errorhandler(OutOfStock)
    def sorry(exc: OutOfStock) -> tuple[str, int]:
        return f"sorry: {exc}", 409

    @app.get("/abort/<int:code>")
    def aborting(code: int) -> str:
        abort(code, description="the shelf is <b>empty</b>")

    @app.get("/gone")
    def gone() -> str:
        abort(410)

    @app.errorhandler(410)
    def gone_page(exc: Exception) -> tuple[Any, int]:
        return jsonify(handled_by="the app"), 410

    @app.get("/account")
    def account() -> str:
        """Fails in a block of a template that extends a layout (Jinja's UndefinedError)."""
        basket_id = "B-1001"
        customer = {"name": "Ada", "address": {"street": "1 Analytical Way"}}
        return render_template("account.html", customer=customer, basket_id=basket_id)

    @app.get("/basket")
    def basket() -> str:
        """Fails in a macro another template imports (a ZeroDivisionError in the template)."""
        items = [{"name": "tea", "cost": 4.5, "count": 0}]
        return render_template("basket.html", items=items)

    @app.get("/broken-template")
    def broken_template() -> str:
        return render_template("broken.html", order={"number": 7})

    @app.get("/offers")
    def offers() -> str:
        """Includes a template that does not exist."""
        return render_template("with_part.html")

    @app.after_request
    def stamp(response: Any) -> Any:
        response.headers["X-Shop"] = "open"
        return response

    debugpages.flask.init_app(app, mode, **options)
    return app


app = create_app()
