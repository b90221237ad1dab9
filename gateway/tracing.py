"""OpenTelemetry traces: exported over OTLP/HTTP when an endpoint is set, free when not."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.settings import TracingSettings

_PROPAGATOR = TraceContextTextMapPropagator()


class Tracing:
    """The tracer the gateway's spans come from, and the provider to flush at shutdown."""

    def __init__(self, settings: TracingSettings) -> None:
        self._provider: TracerProvider | None = None
        if settings.otlp_endpoint is None:
            self.tracer: trace.Tracer = trace.NoOpTracer()
            return
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

        self._provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        )
        exporter = OTLPSpanExporter(endpoint=str(settings.otlp_endpoint))
        self._provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
        self.tracer = self._provider.get_tracer("llmops.gateway")

    def start(
        self,
        name: str,
        *,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        parent: trace.Span | None = None,
        attributes: Mapping[str, str] | None = None,
        carrier: Mapping[str, str] | None = None,
    ) -> trace.Span:
        """A new span (ended by the caller); without tracing, the shared no-op span. A
        ``carrier`` (a request's headers) with a W3C ``traceparent`` continues the caller's
        trace."""
        if self._provider is None:
            return trace.INVALID_SPAN
        context = trace.set_span_in_context(parent) if parent is not None else None
        if context is None and carrier is not None and "traceparent" in carrier:
            context = _PROPAGATOR.extract(carrier={"traceparent": carrier["traceparent"]})
        return self.tracer.start_span(name, context=context, kind=kind, attributes=attributes)

    def child(self, parent: trace.Span, name: str) -> contextlib.AbstractContextManager[Any]:
        """A span under ``parent`` for the duration of a ``with`` block."""
        if self._provider is None:
            return contextlib.nullcontext()
        return self.tracer.start_as_current_span(name, context=trace.set_span_in_context(parent))

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()
