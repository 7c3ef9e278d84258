import { ROOT_CONTEXT, context, createContextKey, propagation, trace, type Context } from '@opentelemetry/api';
import { core, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanSpan, leanSpanSetupFor } from '../../../src/telemetry/LeanSpan.js';
import { LIGHT_ROOT, LightContext } from '../../../src/telemetry/LightContext.js';
import { rootSamplingFromEnv } from '../../../src/telemetry/rootSampling.js';
import { sampleRootsWith, startRequestSpan } from '../../../src/telemetry/spans.js';
import { SyncScopeContextManager } from '../../../src/telemetry/SyncScopeContextManager.js';
import { PRODUCT_NAME, VERSION } from '../../../src/version.js';

const USER = createContextKey('test user');
const OTHER = createContextKey('test other');
const serverSpan = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
const authSpan = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b8', traceFlags: 1 });

/** The same operations on the API's root and on LIGHT_ROOT must read the same. */
function reads(root: Context) {
  const withUser = root.setValue(USER, 'alice').setValue(OTHER, 7);
  const withSpan = trace.setSpan(withUser, serverSpan);
  const child = trace.setSpan(withSpan, authSpan);
  const replaced = child.setValue(USER, 'bob');
  const deleted = replaced.deleteValue(USER);
  return {
    root: [root.getValue(USER), trace.getSpan(root)],
    withUser: [withUser.getValue(USER), withUser.getValue(OTHER)],
    withSpan: [trace.getSpan(withSpan), withSpan.getValue(USER)],
    child: [trace.getSpan(child), child.getValue(OTHER)],
    replaced: [replaced.getValue(USER), trace.getSpan(replaced)],
    deleted: [deleted.getValue(USER), deleted.getValue(OTHER), trace.getSpan(deleted)],
    withoutSpan: [trace.getSpan(trace.deleteSpan(child)), trace.deleteSpan(child).getValue(OTHER)],
    suppressed: [core.isTracingSuppressed(core.suppressTracing(child)), core.isTracingSuppressed(child)],
    unchanged: [withUser.getValue(USER), trace.getSpan(withSpan)],
  };
}

describe('LightContext', () => {
  it('reads as the API context does after every set, delete, span and suppression', () => {
    expect(reads(LIGHT_ROOT)).toEqual(reads(ROOT_CONTEXT));
    expect(reads(LIGHT_ROOT).deleted).toEqual([undefined, 7, authSpan]);
    expect(LIGHT_ROOT.setValue(USER, 'alice')).toBeInstanceOf(LightContext);
  });

  it('carries the span to a propagator, and a propagator extracts into it', () => {
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
    try {
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(LIGHT_ROOT, serverSpan), carrier);
      expect(carrier.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      const extracted = propagation.extract(LIGHT_ROOT, carrier);
      expect(extracted).toBeInstanceOf(LightContext);
      expect(trace.getSpanContext(extracted)).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', isRemote: true });
    } finally {
      propagation.disable();
    }
  });
});

describe('the gateway context manager', () => {
  const manager = new SyncScopeContextManager().enable();
  beforeAll(() => void context.setGlobalContextManager(manager));
  afterAll(() => {
    manager.disable();
    context.disable();
  });

  it('hands out LIGHT_ROOT when nothing is active, and what is active otherwise', () => {
    expect(context.active()).toBe(LIGHT_ROOT);
    const active = LIGHT_ROOT.setValue(USER, 'alice');
    context.with(active, () => expect(context.active()).toBe(active));
    manager.runSynchronously(active, () => expect(context.active()).toBe(active));
    const apiContext = ROOT_CONTEXT.setValue(USER, 'bob');
    context.with(apiContext, () => expect(context.active()).toBe(apiContext));
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
  ])('are LightContexts with %s, not the API BaseContext (which V8 pretenures: bench/README "Eleventh round")', (_, useLean) => {
    const lean = useLean ? leanSpanSetupFor(provider.getTracer(PRODUCT_NAME, VERSION), processor, () => root.ids.generateSpanId()) : undefined;
    sampleRootsWith(root, lean);
    const request = startRequestSpan('GET', '/v1/models', {});
    expect(request?.span instanceof LeanSpan).toBe(useLean);
    expect(request?.context).toBeInstanceOf(LightContext);
    expect(trace.getSpan(request!.context!)).toBe(request!.span);
    request!.span.end();
  });
});
