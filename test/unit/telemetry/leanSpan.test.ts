import { ProxyTracerProvider, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { core, resources, tracing } from '@opentelemetry/sdk-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthOutcome } from '../../../src/auth/types.js';
import { LeanSpan, leanSpanSetupFor, type LeanSpanSetup } from '../../../src/telemetry/LeanSpan.js';
import { EncodedBatch } from '../../../src/telemetry/otlp/EncodedBatch.js';
import { rootSamplingFromEnv } from '../../../src/telemetry/rootSampling.js';
import { SyncScopeContextManager } from '../../../src/telemetry/SyncScopeContextManager.js';
import { addEvent, endRequestSpan, runInRequestSpan, sampleRootsWith, startRequestSpan, traceAuth } from '../../../src/telemetry/spans.js';
import { useSyncScopes } from '../../../src/telemetry/syncScopes.js';
import { PRODUCT_NAME, VERSION } from '../../../src/version.js';

type ReadableSpan = tracing.ReadableSpan;

const RESOURCE = resources.resourceFromAttributes({ 'service.name': 'openclaw-gateway', 'service.instance.id': 'replica-lean' });
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** Every span the provider's processor is handed, SDK-made or lean. */
const ended: ReadableSpan[] = [];
const recorder: tracing.SpanProcessor = {
  onStart() {},
  onEnd: (span) => void ended.push(span),
  forceFlush: async () => {},
  shutdown: async () => {},
};
const root = rootSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' });
const provider = new tracing.BasicTracerProvider({ resource: RESOURCE, sampler: root.sampler, idGenerator: root.ids, spanProcessors: [recorder] });
const contextManager = new SyncScopeContextManager();
let lean: LeanSpanSetup;

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  useSyncScopes(contextManager);
  lean = leanSpanSetupFor(provider.getTracer(PRODUCT_NAME, VERSION), recorder, () => root.ids.generateSpanId())!;
});
afterAll(() => {
  sampleRootsWith(undefined);
  useSyncScopes(undefined);
  trace.disable();
  context.disable();
  propagation.disable();
});
afterEach(() => {
  ended.length = 0;
});

/**
 * One fast-lane request as FastLane.ts traces it: the SERVER span, the `auth` span inside it with a
 * rate-limit event and the outcome, then the status (and an error) at the end.
 */
function laneRequest(headers: Record<string, string>, outcome: AuthOutcome, status: number, error?: Error): ReadableSpan[] {
  const request = startRequestSpan('GET', '/v1/models', headers)!;
  runInRequestSpan(request, () => {
    traceAuth({ clientIp: '203.0.113.7', transport: 'http' }, () => {
      addEvent('openclaw.ratelimit.check', { 'openclaw.ratelimit.remaining': 9, 'openclaw.ratelimit.blocked': false, absent: undefined });
      return outcome;
    });
  }, undefined);
  endRequestSpan(request.span, status, error);
  const spans = [...ended];
  ended.length = 0;
  return spans;
}

/** What an exported span says, ids and clocks aside (those are compared by shape). */
function described(span: ReadableSpan, all: ReadableSpan[]) {
  const parent = all.find((other) => other.spanContext().spanId === span.parentSpanContext?.spanId);
  return {
    name: span.name,
    kind: span.kind,
    parent: parent ? parent.name : span.parentSpanContext ? { ...span.parentSpanContext, spanId: 'caller' } : undefined,
    traceFlags: span.spanContext().traceFlags,
    traceState: span.spanContext().traceState?.serialize(),
    attributes: span.attributes,
    events: span.events.map(({ name, attributes, droppedAttributesCount }) => ({ name, attributes, droppedAttributesCount })),
    links: span.links,
    status: span.status,
    dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
    resource: span.resource === RESOURCE,
    scope: span.instrumentationScope,
  };
}

const SUCCESS: AuthOutcome = { ok: true, identity: { method: 'token', role: 'operator' } } as unknown as AuthOutcome;
const REFUSED: AuthOutcome = { ok: false, type: 'unauthorized', reason: 'token_mismatch' };
const CASES: Array<[string, Record<string, string>, AuthOutcome, number, Error | undefined]> = [
  ['a root request that succeeds', {}, SUCCESS, 200, undefined],
  ['a refused request', {}, REFUSED, 401, undefined],
  ['a request that fails', {}, SUCCESS, 500, Object.assign(new Error('upstream went away'), { code: 'ECONNRESET' })],
  ['a request in a caller trace, with trace state', { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'caller=1' }, SUCCESS, 200, undefined],
];

describe('LeanSpan: the fast lane spans without the SDK span machinery', () => {
  it.each(CASES)('makes the spans the SDK makes: %s', (_name, headers, outcome, status, error) => {
    sampleRootsWith(root);
    const sdkSpans = laneRequest(headers, outcome, status, error);
    sampleRootsWith(root, lean);
    const leanSpans = laneRequest(headers, outcome, status, error);

    expect(sdkSpans.map((span) => span instanceof LeanSpan)).toEqual([false, false]);
    expect(leanSpans.map((span) => span instanceof LeanSpan)).toEqual([true, true]);
    expect(leanSpans.map((span) => described(span, leanSpans))).toEqual(sdkSpans.map((span) => described(span, sdkSpans)));
    for (const [i, span] of leanSpans.entries()) {
      const sdkSpan = sdkSpans[i]!;
      expect(span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(span.spanContext().traceId).toMatch(headers.traceparent ? new RegExp(`^${CALLER_TRACE}$`) : /^[0-9a-f]{32}$/);
      // Epoch times from the same clocks: within the test's few milliseconds of the SDK's, end after start.
      const nanos = ([s, n]: readonly [number, number]) => BigInt(s) * 1_000_000_000n + BigInt(n);
      const gap = nanos(span.startTime) - nanos(sdkSpan.startTime);
      expect(gap < 1_000_000_000n && gap > -1_000_000_000n).toBe(true);
      expect(nanos(span.endTime)).toBeGreaterThanOrEqual(nanos(span.startTime));
      expect(nanos(span.duration)).toBe(nanos(span.endTime) - nanos(span.startTime));
      for (const event of span.events) expect(nanos(event.time)).toBeGreaterThanOrEqual(nanos(span.startTime));
    }
    expect(leanSpans[1]!.spanContext().traceId).toBe(leanSpans[0]!.spanContext().traceId);
  });

  it('is encoded to the bytes the SDK serializer writes for it, in one group with the SDK spans of its tracer', () => {
    sampleRootsWith(root, lean);
    const leanSpans = laneRequest({}, REFUSED, 500, new Error('boom'));
    sampleRootsWith(root);
    const sdkSpans = laneRequest({}, SUCCESS, 200);
    const spans = [...leanSpans, ...sdkSpans];
    const batch = new EncodedBatch();
    for (const span of spans) batch.add(span);
    expect(Buffer.from(batch.encodeRequest())).toEqual(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
  });

  it('follows the SDK rules for status, attributes and events, and ignores what comes after end()', () => {
    const span = new LeanSpan(lean, 'GET /v1/models', SpanKind.SERVER, CALLER_TRACE, undefined, { kept: 'yes', dropped: undefined } as Attributes);
    span.setStatus({ code: SpanStatusCode.UNSET });
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
    span.setStatus({ code: SpanStatusCode.OK, message: 'ignored for OK' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'OK is final' });
    expect(span.status).toEqual({ code: SpanStatusCode.OK });
    span.setAttribute('', 'no empty keys');
    span.recordException('plain text');
    span.recordException({});
    span.addEvent('at a time', new Date(1_700_000_000_123));
    span.end();
    span.setAttribute('late', 1);
    span.addEvent('late');
    span.updateName('late');
    span.end();
    expect(ended).toEqual([span]);
    expect(span.attributes).toEqual({ kept: 'yes' });
    expect(span.events.map(({ name, attributes }) => [name, attributes])).toEqual([
      ['exception', { 'exception.message': 'plain text' }],
      ['at a time', {}],
    ]);
    expect(span.events[1]!.time).toEqual([1_700_000_000, 123_000_000]);
    expect(span.name).toBe('GET /v1/models');
    expect(span.isRecording()).toBe(false);
  });
});

describe('leanSpanSetupFor', () => {
  const tracerWith = (spanLimits: tracing.SpanLimits) =>
    new tracing.BasicTracerProvider({ resource: RESOURCE, spanLimits }).getTracer(PRODUCT_NAME, VERSION);
  const setupFor = (tracer: unknown) => leanSpanSetupFor(tracer, recorder, () => '0123456789abcdef');

  it("takes the SDK tracer's own resource and scope objects", () => {
    const tracer = provider.getTracer(PRODUCT_NAME, VERSION) as unknown as { instrumentationScope: unknown };
    const setup = setupFor(tracer)!;
    expect(setup.resource).toBe(RESOURCE);
    expect(setup.scope).toBe(tracer.instrumentationScope);
    expect(setup.scope).toMatchObject({ name: PRODUCT_NAME, version: VERSION });
  });

  it('is off where the SDK span would differ: limits that could cut an attribute or an event, another tracer shape', () => {
    expect(setupFor(tracerWith({}))).toBeDefined();
    expect(setupFor(tracerWith({ attributeValueLengthLimit: 64 }))).toBeUndefined();
    expect(setupFor(tracerWith({ attributeCountLimit: 4 }))).toBeUndefined();
    expect(setupFor(tracerWith({ eventCountLimit: 0 }))).toBeUndefined();
    expect(setupFor(tracerWith({ attributePerEventCountLimit: 2 }))).toBeUndefined();
    expect(setupFor(new ProxyTracerProvider().getTracer('no-sdk'))).toBeUndefined();
    expect(setupFor({})).toBeUndefined();
  });
});
