"""OpenTelemetry: the span gets the exception and the reference; the page gets the trace id."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient
from werkzeug.exceptions import NotFound
from werkzeug.test import Client

from debugpages import ASGIErrorPages, ErrorPages

from . import apps
from .processes import run


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> trace.Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("tests")


def traced_wsgi(app: Any, tracer: trace.Tracer) -> Any:
    """What an instrumentation middleware does: a server span around the whole request."""

    def wrapper(environ: Any, start_response: Any) -> Iterable[bytes]:
        with tracer.start_as_current_span("GET", kind=trace.SpanKind.SERVER):
            return list(app(environ, start_response))

    return wrapper


def traced_asgi(app: Any, tracer: trace.Tracer) -> Any:
    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        with tracer.start_as_current_span("GET", kind=trace.SpanKind.SERVER):
            await app(scope, receive, send)

    return wrapper


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return trace.format_trace_id(span.context.trace_id)


@pytest.mark.parametrize("mode", ["on", "legacy-200"])
def test_the_span_records_the_error_and_the_page_shows_its_trace_id(
    mode: str, tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    client = Client(traced_wsgi(ErrorPages(apps.plain, mode=mode), tracer))
    page = client.get("/", headers={"Accept": "application/json"}).json
    span = only_span(exporter)
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["debugpages.reference"] == page["reference"]
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"
    assert page["trace_id"] == trace_id(span)
    html = client.get("/", headers={"Accept": "text/html"}).text
    text = client.get("/").text
    assert f'<code class="trace-id">{trace_id(exporter.get_finished_spans()[1])}</code>' in html
    assert f"Trace: {trace_id(exporter.get_finished_spans()[2])}" in text


def test_the_production_page_never_shows_the_trace_id_but_the_span_has_the_reference(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    client = Client(traced_wsgi(ErrorPages(apps.plain, mode="off"), tracer))
    page = client.get("/", headers={"Accept": "text/html"}).text
    span = only_span(exporter)
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["debugpages.reference"] in page
    assert trace_id(span) not in page


def test_a_client_error_leaves_the_span_status_alone(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    client = Client(traced_wsgi(ErrorPages(apps.raising(NotFound()), mode="on"), tracer))
    assert client.get("/").status_code == 404
    span = only_span(exporter)
    assert span.status.status_code is trace.StatusCode.UNSET
    assert span.events == ()
    assert span.attributes is not None
    assert "debugpages.reference" in span.attributes


def test_asgi_records_on_the_span_too(tracer: trace.Tracer, exporter: InMemorySpanExporter) -> None:
    async def boom(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("async failure")

    client = TestClient(traced_asgi(ASGIErrorPages(boom, mode="on"), tracer))
    page = client.get("/", headers={"Accept": "application/json"}).json()
    span = only_span(exporter)
    assert span.status.status_code is trace.StatusCode.ERROR
    assert page["trace_id"] == trace_id(span)


def test_without_a_current_span_there_is_no_trace_id() -> None:
    page = Client(ErrorPages(apps.plain, mode="on")).get("/", headers={"Accept": "text/html"})
    assert 'class="trace-id"' not in page.text


def test_without_opentelemetry_imported_the_page_is_the_same(
    monkeypatch: pytest.MonkeyPatch, tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    monkeypatch.delitem(sys.modules, "opentelemetry.trace")  # as if the app never imported it
    client = Client(traced_wsgi(ErrorPages(apps.plain, mode="on"), tracer))
    page = json.loads(client.get("/", headers={"Accept": "application/json"}).text)
    assert page["status"] == 500
    assert page["trace_id"] is None
    span = only_span(exporter)
    assert span.status.status_code is trace.StatusCode.UNSET


def test_importing_debugpages_does_not_import_opentelemetry() -> None:
    code = "import sys, debugpages; print(any(m.startswith('opentelemetry') for m in sys.modules))"
    assert run([sys.executable, "-c", code]).strip() == "False"


LATE = """
import json, sys
from werkzeug.test import Client
from debugpages import ErrorPages

def fail(environ, start_response):
    raise RuntimeError("late tracing")

app = ErrorPages(fail, mode="on")
built = any(m.startswith("opentelemetry") for m in sys.modules)
# the application sets up OpenTelemetry only after the middleware is built
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
with provider.get_tracer("late").start_as_current_span("request"):
    page = json.loads(Client(app).get("/", headers={"Accept": "application/json"}).text)
(span,) = exporter.get_finished_spans()
print(json.dumps({
    "built": built, "page": page["trace_id"], "reference": page["reference"],
    "span": span.attributes["debugpages.reference"], "status": span.status.status_code.name,
}))
"""


def test_opentelemetry_set_up_after_the_middleware_is_built_still_gets_the_reference() -> None:
    got = json.loads(run([sys.executable, "-c", LATE]).splitlines()[-1])
    assert got["built"] is False  # building the middleware imported no OpenTelemetry
    assert got["span"] == got["reference"]
    assert got["status"] == "ERROR"
    assert len(got["page"]) == 32


@pytest.mark.parametrize("mode", ["off", "on"])
def test_the_spans_exception_event_is_masked_as_the_log_is(
    mode: str, tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    secret = "-".join(["tok", "live", "SpanEventSecret42"])  # no source line holds it

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        api_token = secret
        raise RuntimeError(f"upstream refused {api_token}")

    Client(traced_wsgi(ErrorPages(app, mode=mode), tracer)).get("/")
    (event,) = only_span(exporter).events
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "RuntimeError"
    assert event.attributes["exception.message"] == "upstream refused ********"
    assert "RuntimeError: upstream refused ********" in str(
        event.attributes["exception.stacktrace"]
    )
    assert secret not in json.dumps(dict(event.attributes))
