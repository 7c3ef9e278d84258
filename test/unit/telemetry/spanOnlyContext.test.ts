import { ROOT_CONTEXT, createContextKey, propagation, trace } from '@opentelemetry/api';
import { core, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanSpan, leanSpanSetupFor } from '../../../src/telemetry/LeanSpan.js';
import { SpanOnlyContext } from '../../../src/telemetry/SpanOnlyContext.js';
import { sampleRootsWith, startRequestSpan } from '../../../src/telemetry/spans.js';
import { rootSamplingFromEnv } from '../../../src/telemetry/rootSampling.js';
import { PRODUCT_NAME, VERSION } from '../../../src/version.js';

const USER = createContextKey('test user');
const OTHER = createContextKey('test other');
const serverSpan = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
const authSpan = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b8', traceFlags: 1 });

describe('SpanOnlyContext', () => {
  it('reads as trace.setSpan(parent, span) does: the span, and the parent for every other key', () => {
    const parent = ROOT_CONTEXT.setValue(USER, 'alice').setValue(OTHER, 7);
    const context = new SpanOnlyContext(serverSpan, parent);
    expect(trace.getSpan(context)).toBe(serverSpan);
    expect(context.getValue(USER)).toBe('alice');
    expect(context.getValue(OTHER)).toBe(7);
    expect(trace.getSpan(new SpanOnlyContext(authSpan, context))).toBe(authSpan);
    expect(new SpanOnlyContext(authSpan, context).getValue(USER)).toBe('alice');
    expect(trace.getSpan(ROOT_CONTEXT)).toBeUndefined();
  });

  it('gives a context with the span in it to whatever sets or deletes a value, and stays as it was', () => {
    const context = new SpanOnlyContext(serverSpan, ROOT_CONTEXT.setValue(USER, 'alice'));
    const suppressed = core.suppressTracing(context);
    expect(core.isTracingSuppressed(suppressed)).toBe(true);
    expect(trace.getSpan(suppressed)).toBe(serverSpan);
    expect(suppressed.getValue(USER)).toBe('alice');
    const withoutUser = context.deleteValue(USER);
    expect(withoutUser.getValue(USER)).toBeUndefined();
    expect(trace.getSpan(withoutUser)).toBe(serverSpan);
    expect(trace.getSpan(trace.deleteSpan(context))).toBeUndefined();
    expect(trace.getSpan(trace.setSpan(context, authSpan))).toBe(authSpan);
    expect(core.isTracingSuppressed(context)).toBe(false);
    expect(context.getValue(USER)).toBe('alice');
  });

  it('carries the span to a propagator', () => {
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
    try {
      const carrier: Record<string, string> = {};
      propagation.inject(new SpanOnlyContext(serverSpan, ROOT_CONTEXT), carrier);
      expect(carrier.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    } finally {
      propagation.disable();
    }
  });
});

describe('request contexts of the fast lane', () => {
  const root = rootSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' });
  const processor: tracing.SpanProcessor = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new tracing.BasicTracerProvider({ sampler: root.sampler, idGenerator: root.ids, spanProcessors: [processor] });
  beforeAll(() => void trace.setGlobalTracerProvider(provider));
  afterAll(() => {
    sampleRootsWith(undefined);
    trace.disable();
  });

  it.each([
    ['lean spans', true],
    ['SDK spans', false],
  ])('are SpanOnlyContexts with %s, not the API BaseContext (which V8 pretenures: bench/README "Eleventh round")', (_, useLean) => {
    const lean = useLean ? leanSpanSetupFor(provider.getTracer(PRODUCT_NAME, VERSION), processor, () => root.ids.generateSpanId()) : undefined;
    sampleRootsWith(root, lean);
    const request = startRequestSpan('GET', '/v1/models', {});
    expect(request?.span instanceof LeanSpan).toBe(useLean);
    expect(request?.context).toBeInstanceOf(SpanOnlyContext);
    expect(trace.getSpan(request!.context!)).toBe(request!.span);
    request!.span.end();
  });
});
