import { propagation, trace, type Attributes, type Context, type Sampler, type SpanKind } from '@opentelemetry/api';
import { core, resources, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresetTraceIdGenerator, samplerFromEnv } from '../../../src/telemetry/rootSampling.js';
import { sampleRootsWith, startRequestSpan } from '../../../src/telemetry/spans.js';

describe('samplerFromEnv', () => {
  it('builds what the SDK builds from OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG', () => {
    expect(samplerFromEnv({}).toString()).toBe('ParentBased{root=AlwaysOnSampler, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }).toString()).toBe('AlwaysOffSampler');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).toString()).toBe('TraceIdRatioBased{0.25}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).toString()).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0.1\}/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).toString()).toMatch(/^ParentBased\{root=AlwaysOffSampler/);
  });

  it('falls back as the SDK does: ratio 1 when the argument is blank, not a number or out of range; the default for an unknown name', () => {
    for (const arg of [undefined, ' ', 'half', '1.5', '-0.1']) {
      expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg }).toString()).toBe('TraceIdRatioBased{1}');
    }
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' }).toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
  });
});

describe('PresetTraceIdGenerator', () => {
  it('returns a handed-in trace id once, random valid ids otherwise', () => {
    const ids = new PresetTraceIdGenerator();
    ids.useNext('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.generateTraceId()).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const next = ids.generateTraceId();
    expect(next).toMatch(/^[0-9a-f]{32}$/);
    expect(next).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("the fast lane's root requests: sampled before any span is made", () => {
  const asked: string[] = [];
  const ratio = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' });
  const sampler: Sampler = {
    shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links) {
      asked.push(traceId);
      return ratio.shouldSample(context, traceId, name, kind, attributes, links);
    },
    toString: () => `asking ${ratio.toString()}`,
  };
  const memory = new tracing.InMemorySpanExporter();
  const ids = new PresetTraceIdGenerator();
  const provider = new tracing.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': 'test' }),
    sampler,
    idGenerator: ids,
    spanProcessors: [new tracing.SimpleSpanProcessor(memory)],
  });

  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
    sampleRootsWith({ sampler, ids });
  });
  afterAll(() => {
    sampleRootsWith(undefined);
    trace.disable();
    propagation.disable();
  });

  it('keeps the requests the sampler keeps, at its ratio, with the trace id it was asked about', () => {
    const started = Array.from({ length: 400 }, () => startRequestSpan('GET', '/v1/models', {})!);
    const recorded = started.filter(({ span }) => span.isRecording());
    const dropped = started.filter(({ span }) => !span.isRecording());
    for (const { span } of started) span.end();
    // Asking again with a new id would keep about a quarter (0.5 × 0.5); the same id keeps half.
    expect(recorded.length).toBeGreaterThan(140);
    expect(recorded.length).toBeLessThan(260);
    const exported = memory.getFinishedSpans();
    expect(exported).toHaveLength(recorded.length);
    for (const span of exported) {
      // Once by the fast lane, once by the SDK's startSpan: the same id both times.
      expect(asked.filter((id) => id === span.spanContext().traceId)).toHaveLength(2);
      expect(span.name).toBe('GET /v1/models');
      expect(span.parentSpanContext).toBeUndefined();
    }
    // A dropped request has no span: a non-recording one, no context to run in, one question asked.
    expect(dropped.length).toBe(400 - recorded.length);
    for (const { span, context } of dropped) {
      expect(span.spanContext().traceId).toBe('00000000000000000000000000000000');
      expect(context).toBeUndefined();
    }
    expect(asked).toHaveLength(400 + recorded.length);
  });

  it('leaves a request that carries a traceparent to the SDK (parent-based: the caller decides)', () => {
    const caller = '4bf92f3577b34da6a3ce929d0e0e4736';
    const sampled = startRequestSpan('GET', '/v1/models', { traceparent: `00-${caller}-00f067aa0ba902b7-01` })!;
    const notSampled = startRequestSpan('GET', '/v1/models', { traceparent: `00-${caller}-00f067aa0ba902b7-00` })!;
    expect(sampled.span.isRecording()).toBe(true);
    expect(sampled.span.spanContext().traceId).toBe(caller);
    expect(notSampled.span.isRecording()).toBe(false);
    expect(notSampled.span.spanContext().traceId).toBe(caller);
  });
});
