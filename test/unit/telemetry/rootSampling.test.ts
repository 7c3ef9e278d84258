import { ROOT_CONTEXT, SamplingDecision, SpanKind, propagation, trace, type Attributes, type Context, type Sampler } from '@opentelemetry/api';
import { core, resources, tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PresetTraceIdGenerator, rootSamplingFromEnv, samplerFromEnv } from '../../../src/telemetry/rootSampling.js';
import { sampleRootsWith, startRequestSpan } from '../../../src/telemetry/spans.js';

describe('samplerFromEnv', () => {
  it('builds what the SDK builds from OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG', () => {
    expect(samplerFromEnv({}).sampler.toString()).toBe('ParentBased{root=AlwaysOnSampler, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }).sampler.toString()).toBe('AlwaysOffSampler');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).sampler.toString()).toBe('TraceIdRatioBased{0.25}');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).sampler.toString()).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0.1\}/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).sampler.toString()).toMatch(/^ParentBased\{root=AlwaysOffSampler/);
  });

  it('falls back as the SDK does: ratio 1 when the argument is blank, not a number or out of range; the default for an unknown name', () => {
    for (const arg of [undefined, ' ', 'half', '1.5', '-0.1']) {
      expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg }).sampler.toString()).toBe('TraceIdRatioBased{1}');
    }
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' }).sampler.toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
  });
});

describe('keepsRoot: the root decision from the trace id words', () => {
  const hexOf = (words: number[]) => words.map((word) => word.toString(16).padStart(8, '0')).join('');
  const settings: Array<[string, string | undefined]> = [
    ['parentbased_traceidratio', '0.1'],
    ['traceidratio', '0.5'],
    ['traceidratio', '0'],
    ['traceidratio', '1'],
    ['traceidratio', '0.999'],
    ['parentbased_always_on', undefined],
    ['always_off', undefined],
    ['parentbased_always_off', undefined],
  ];

  it.each(settings)('agrees with the SDK sampler about every id (%s %s)', (name, arg) => {
    const { sampler, keepsRoot } = samplerFromEnv({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: arg });
    let kept = 0;
    for (let i = 0; i < 5_000; i++) {
      const words = Array.from({ length: 4 }, () => (Math.random() * 2 ** 32) >>> 0);
      // Edge words too: all bits set.
      if (i % 10 === 0) words[i % 4] = 0xffffffff;
      const decision = sampler.shouldSample(ROOT_CONTEXT, hexOf(words), 'GET /v1/models', SpanKind.SERVER, {}, []).decision;
      const keeps = keepsRoot(words[0]!, words[1]!, words[2]!, words[3]!);
      expect(keeps).toBe(decision === SamplingDecision.RECORD_AND_SAMPLED);
      if (keeps) kept += 1;
    }
    const ratio = name.includes('ratio') ? Number(arg) : name.endsWith('always_on') ? 1 : 0;
    expect(Math.abs(kept / 5_000 - ratio)).toBeLessThan(0.05);
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

  it('writes ids as the SDK does: each 32-bit word big-endian, two lowercase hex digits a byte, never all zero', () => {
    const words = [0x0a1b2c3d, 0xff00ee01, 0x00000000, 0x80000009, 0, 0];
    const random = vi.spyOn(Math, 'random').mockImplementation(() => (words.shift() ?? 0) / 2 ** 32);
    try {
      const root = rootSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' });
      expect(root.drawRoot()).toBe('0a1b2c3dff00ee010000000080000009');
      expect(root.ids.generateSpanId()).toBe('0000000000000001');
      expect(root.ids.generateTraceId()).toBe('00000000000000000000000000000001');
    } finally {
      random.mockRestore();
    }
  });
});

describe("the fast lane's root requests: decided before any span is made", () => {
  const root = rootSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' });
  const asked: Array<{ traceId: string; decision: SamplingDecision }> = [];
  const sampler: Sampler = {
    shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links) {
      const result = root.sampler.shouldSample(context, traceId, name, kind, attributes, links);
      asked.push({ traceId, decision: result.decision });
      return result;
    },
    toString: () => `asking ${root.sampler.toString()}`,
  };
  const memory = new tracing.InMemorySpanExporter();
  const provider = new tracing.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': 'test' }),
    sampler,
    idGenerator: root.ids,
    spanProcessors: [new tracing.SimpleSpanProcessor(memory)],
  });

  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
    sampleRootsWith(root);
  });
  afterAll(() => {
    sampleRootsWith(undefined);
    trace.disable();
    propagation.disable();
  });

  it('keeps the requests the sampler keeps, at its ratio, and the SDK starts them with the same trace id', () => {
    const started = Array.from({ length: 400 }, () => startRequestSpan('GET', '/v1/models', {})!);
    const recorded = started.filter(({ span }) => span.isRecording());
    const dropped = started.filter(({ span }) => !span.isRecording());
    for (const { span } of started) span.end();
    // An SDK deciding again on a new id would keep about a quarter (0.5 × 0.5); the same id keeps half.
    expect(recorded.length).toBeGreaterThan(140);
    expect(recorded.length).toBeLessThan(260);
    // The SDK was asked only about the kept ones, and kept every one of them.
    expect(asked).toHaveLength(recorded.length);
    expect(asked.every(({ decision }) => decision === SamplingDecision.RECORD_AND_SAMPLED)).toBe(true);
    const exported = memory.getFinishedSpans();
    expect(exported.map((span) => span.spanContext().traceId)).toEqual(asked.map(({ traceId }) => traceId));
    for (const span of exported) {
      expect(span.name).toBe('GET /v1/models');
      expect(span.parentSpanContext).toBeUndefined();
    }
    // A dropped request has no span: a non-recording one and no context to run in.
    for (const { span, context } of dropped) {
      expect(span.spanContext().traceId).toBe('00000000000000000000000000000000');
      expect(context).toBeUndefined();
    }
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
