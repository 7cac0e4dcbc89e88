"""Failures as real projects raise them: a view that imports a module an edit broke, and a
view whose template raises deep in the template engine's frames.

One Flask app (``flask_app``) and one Django project: this module is its settings
(``DJANGO_SETTINGS_MODULE=tests.failing_site``, for ``runserver``) and its URLconf (the
test client's, by ``override_settings(ROOT_URLCONF=...)``). The broken module, named
``BROKEN``, is written by each test into a folder it puts on the path.
"""

from __future__ import annotations

import importlib

from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.urls import path
from django.views import View
from flask import Blueprint, Flask

import debugpages.flask

BROKEN = "pricing_broken"
SYNTAX_ERROR = """\
import decimal


def total(basket):
    return (sum(item.price for item in basket)
"""
"""A module whose line 5 never closes its parenthesis (Python reports it at line 5)."""

DASHBOARD = (
    "{% autoescape on %}{% spaceless %}{% for line in invoice.lines %}{% if line %}"
    "{% for other in invoice.lines %}{% if other %}<p>{{ invoice.total }}</p>"
    "{% endif %}{% endfor %}{% endif %}{% endfor %}{% endspaceless %}{% endautoescape %}"
)
"""A template that reaches ``invoice.total`` under a dozen nodes' worth of engine frames."""


class Invoice:
    lines = ("tea", "cake")

    @property
    def total(self) -> float:
        raise ZeroDivisionError("an invoice without a currency")


def flask_app() -> Flask:
    """A Flask app with debugpages in ``on``: ``/checkout`` imports the broken module;
    ``/shop/pay``, a blueprint's view, raises."""
    app = Flask(__name__)

    @app.get("/checkout")
    def checkout() -> str:
        basket = ["tea", "cake"]
        pricing = importlib.import_module(BROKEN)
        return str(pricing.total(basket))

    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @shop.get("/pay")
    def pay() -> str:
        raise ValueError("no payment method")

    app.register_blueprint(shop)
    debugpages.flask.init_app(app, mode="on")
    return app


# Django: the settings runserver reads (the test client keeps the tests' own).
DEBUG = True
SECRET_KEY = "only-for-the-tests"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, object] = {}
MIDDLEWARE = ["debugpages.django.ErrorPagesMiddleware"]


def checkout_view(request: HttpRequest) -> HttpResponse:
    basket = ["tea", "cake"]
    pricing = importlib.import_module(BROKEN)
    return HttpResponse(str(pricing.total(basket)))


def dashboard_view(request: HttpRequest) -> HttpResponse:
    invoice = Invoice()
    customer = "Ada Lovelace"
    template = Engine(debug=True).from_string(DASHBOARD)
    return HttpResponse(template.render(Context({"invoice": invoice, "customer": customer})))


class InvoiceView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(str(Invoice().total))


urlpatterns = [
    path("checkout", checkout_view),
    path("dashboard", dashboard_view),
    path("invoice", InvoiceView.as_view()),
]
