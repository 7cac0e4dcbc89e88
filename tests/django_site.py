"""A minimal Django project in one module: settings, views, URLs and the WSGI application.

``application`` (mode from ``DEBUGPAGES``, as no setting names one) is what gunicorn
serves in the tests; the tests change the settings with ``override_settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from . import apps

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="only-for-the-tests",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        DATABASES={},
        MIDDLEWARE=[
            "debugpages.django.ErrorPagesMiddleware",
            f"{__name__}.OutOfStockMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [Path(__file__).parent / "django_templates"],
            }
        ],
    )
    django.setup()


class OutOfStock(Exception):
    """An exception the project answers itself, in a middleware of its own."""


class OutOfStockMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if isinstance(exception, OutOfStock):
            return HttpResponse(f"sorry: {exception}", status=409)
        return None


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("fine")


def fail(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(apps.price_of("tea")))


def out_of_stock(request: HttpRequest) -> HttpResponse:
    raise OutOfStock("no more tea")


def missing(request: HttpRequest) -> HttpResponse:
    raise Http404("no such tea")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("staff only")


def bad(request: HttpRequest) -> HttpResponse:
    raise BadRequest("malformed order")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered order")


def signup(request: HttpRequest) -> HttpResponse:
    """Reads the form, as a view does, then fails."""
    email = request.POST["email"]
    raise ValueError(f"no account for {email}")


class Invoice:
    """An invoice whose total cannot be worked out."""

    def __init__(self, lines: list[float]) -> None:
        self.lines = lines

    @property
    def total(self) -> float:
        paid = 0.0
        return sum(self.lines) / paid


def dashboard(request: HttpRequest) -> HttpResponse:
    """Fails while its template renders ``{{ invoice.total }}``."""
    customer = "Ada"
    invoices = [Invoice([12.5, 7.5])]
    api_token = "dj-Token-556677"
    context = {"customer": customer, "invoice": invoices[0], "api_token": api_token}
    return render(request, "dashboard.html", context)


def broken_tag(request: HttpRequest) -> HttpResponse:
    """Its template has an invalid block tag: a TemplateSyntaxError."""
    return render(request, "broken_tag.html", {"orders": [1, 2]})


def monthly_report(request: HttpRequest) -> HttpResponse:
    """Its template extends a layout with a syntax error."""
    return render(request, "report.html", {"month": "March"})


def not_found_page(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponse("the project's own 404 page", status=404)


handler404 = not_found_page

urlpatterns = [
    path("ok", ok),
    path("fail", fail),
    path("out-of-stock", out_of_stock),
    path("missing", missing),
    path("forbidden", forbidden),
    path("bad", bad),
    path("suspicious", suspicious),
    path("signup", signup),
    path("dashboard", dashboard),
    path("broken-tag", broken_tag),
    path("report", monthly_report),
]


def make_application() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


application = make_application()
