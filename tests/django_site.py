"""A minimal Django project in one module: settings, views, URLs and the WSGI application.

``application`` (mode from ``DEBUGPAGES``, as no setting names one) is what gunicorn
serves in the tests; the tests change the settings with ``override_settings``.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
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
]


def make_application() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


application = make_application()
