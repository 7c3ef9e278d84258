import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SamplingDecision, SpanKind, SpanStatusCode, createTraceState, trace, type Sampler } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resources, tracing } from '@opentelemetry/sdk-node';
import { afterEach, describe, expect, it } from 'vitest';
import { EncodedBatch } from '../../../src/telemetry/otlp/EncodedBatch.js';
import { DEFAULT_BATCH_LIMITS, EncodingSpanProcessor, type BatchExporter, type BatchLimits } from '../../../src/telemetry/otlp/EncodingSpanProcessor.js';
import { batchLimitsFromEnv, otlpProtobufSpanProcessor, wantsOtlpProtobuf } from '../../../src/telemetry/otlp/otlpSpanExport.js';

const RESOURCE = resources.resourceFromAttributes({
  'service.name': 'openclaw-gateway',
  'service.instance.id': 'replica-1',
  'process.pid': 4242,
  'host.name': 'nœud-ünïcødé',
  'process.command_args': ['node', 'dist/cli.js', 'gateway'],
});

/** Every batch the processor hands over, as the request bytes it would send. */
function capturingExporter(): BatchExporter & { requests: Uint8Array[]; counts: number[] } {
  const requests: Uint8Array[] = [];
  const counts: number[] = [];
  return {
    requests,
    counts,
    export(batch: EncodedBatch, done) {
      requests.push(batch.encodeRequest());
      counts.push(batch.count);
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
}

function providerWith(processor: EncodingSpanProcessor) {
  const memory = new tracing.InMemorySpanExporter();
  const provider = new tracing.BasicTracerProvider({
    resource: RESOURCE,
    spanProcessors: [new tracing.SimpleSpanProcessor(memory), processor],
  });
  return { provider, finished: () => memory.getFinishedSpans() };
}

/** Spans using every field the encoder writes: kinds, parents (local and remote, with trace state), events, links, status, attribute types, two scopes, a long one. */
function makeSpans(provider: tracing.BasicTracerProvider): void {
  const gateway = provider.getTracer('openclaw-gateway', '0.1.0');
  const redis = provider.getTracer('@opentelemetry/instrumentation-ioredis', '0.70.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.27.0' });
  const server = gateway.startSpan('GET /v1/models', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/v1/models', 'http.route': '/v1/models' },
  });
  const inRequest = trace.setSpan(ROOT_CONTEXT, server);
  const auth = gateway.startSpan('auth', { attributes: { 'client.address': '203.0.113.7', 'openclaw.auth.transport': 'http' } }, inRequest);
  auth.addEvent('openclaw.ratelimit.check', { 'openclaw.ratelimit.remaining': 9, 'openclaw.ratelimit.blocked': false });
  auth.setAttributes({ 'openclaw.auth.method': 'token', 'openclaw.auth.result': 'success', ratio: 0.25, negative: -42, big: 2 ** 40 });
  auth.end();
  const command = redis.startSpan('get', { kind: SpanKind.CLIENT, attributes: { 'db.statement': 'get [1 args]', 'long.value': 'x'.repeat(300) } }, inRequest);
  command.setStatus({ code: SpanStatusCode.ERROR, message: 'connection réinitialisée' });
  command.recordException(new Error('ECONNRESET'));
  command.end();
  server.setAttribute('http.response.status_code', 200);
  server.end();
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
    traceState: createTraceState('vendor=value,other=1'),
  });
  const linked = gateway.startSpan(
    'POST /v1/chat/completions',
    {
      kind: SpanKind.SERVER,
      links: [{ context: server.spanContext(), attributes: { 'link.reason': 'retry' } }, { context: auth.spanContext() }],
      attributes: { flags: [true, false], counts: [1, 2, 3], names: ['a', 'ß'] },
    },
    remoteParent,
  );
  linked.end();
  gateway.startSpan('internal', {}, ROOT_CONTEXT).end();
}

describe('OTLP/protobuf span encoding', () => {
  it('sends exactly the bytes the SDK serializer builds, batch by batch', async () => {
    const exporter = capturingExporter();
    const processor = new EncodingSpanProcessor(exporter, { ...DEFAULT_BATCH_LIMITS, maxExportBatchSize: 3 });
    const { provider, finished } = providerWith(processor);
    makeSpans(provider);
    makeSpans(provider);
    await processor.forceFlush();
    const spans = finished();
    expect(spans).toHaveLength(10);
    expect(exporter.counts).toEqual([3, 3, 3, 1]);
    const expected = [0, 3, 6, 9].map((from) => ProtobufTraceSerializer.serializeRequest(spans.slice(from, from + 3)));
    expect(exporter.requests.map((bytes) => Buffer.from(bytes).toString('hex'))).toEqual(expected.map((bytes) => Buffer.from(bytes!).toString('hex')));
  });

  it('assembles a batch once: the same bytes if asked again (a retry), no span added after, its buffers reused by the next', () => {
    const { provider, finished } = providerWith(new EncodingSpanProcessor(capturingExporter(), { ...DEFAULT_BATCH_LIMITS, maxQueueSize: 0 }));
    makeSpans(provider);
    const [first, second] = [finished().slice(0, 3), finished().slice(3)];
    const batch = new EncodedBatch();
    for (const span of first) batch.add(span);
    const request = batch.encodeRequest();
    const copy = Buffer.from(request);
    expect(batch.encodeRequest()).toBe(request);
    expect(() => batch.add(second[0]!)).toThrow(/after the request was assembled/);
    // The next batch writes into the first one's scope buffer; the first request's bytes stay as they were.
    const next = new EncodedBatch();
    for (const span of second) next.add(span);
    expect(Buffer.from(next.encodeRequest())).toEqual(Buffer.from(ProtobufTraceSerializer.serializeRequest(second)!));
    expect(Buffer.from(request)).toEqual(copy);
    expect(copy).toEqual(Buffer.from(ProtobufTraceSerializer.serializeRequest(first)!));
  });

  it('leaves out spans that record but are not sampled', async () => {
    const exporter = capturingExporter();
    const processor = new EncodingSpanProcessor(exporter);
    const recordOnly: Sampler = { shouldSample: () => ({ decision: SamplingDecision.RECORD }), toString: () => 'record-only' };
    let ended = 0;
    const counting = { onStart() {}, onEnd: () => void (ended += 1), forceFlush: async () => {}, shutdown: async () => {} };
    const provider = new tracing.BasicTracerProvider({ resource: RESOURCE, sampler: recordOnly, spanProcessors: [counting, processor] });
    provider.getTracer('t').startSpan('recorded, not sampled').end();
    await processor.forceFlush();
    expect(ended).toBe(1);
    expect(exporter.counts).toEqual([]);
  });
});

describe('EncodingSpanProcessor batching', () => {
  const limits = (overrides: Partial<BatchLimits>): BatchLimits => ({ ...DEFAULT_BATCH_LIMITS, ...overrides });

  it('sends a full batch at once, one export at a time, and drops spans past maxQueueSize', async () => {
    const pending: Array<() => void> = [];
    const counts: number[] = [];
    const exporter: BatchExporter = {
      export(batch, done) {
        counts.push(batch.count);
        pending.push(() => done({ code: 0 }));
      },
      shutdown: async () => {},
    };
    const processor = new EncodingSpanProcessor(exporter, limits({ maxExportBatchSize: 2, maxQueueSize: 4 }));
    const { provider } = providerWith(processor);
    const tracer = provider.getTracer('t');
    for (let i = 0; i < 10; i++) tracer.startSpan(`span ${i}`).end();
    // The first two went out as soon as they made a batch; four waited behind that export; four were dropped.
    expect(counts).toEqual([2]);
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(counts).toEqual([2, 2]);
    const flushed = processor.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));
    while (pending.length > 0) pending.shift()!();
    await flushed;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('sends a partial batch scheduledDelayMillis after its first span', async () => {
    const exporter = capturingExporter();
    const processor = new EncodingSpanProcessor(exporter, limits({ scheduledDelayMillis: 20 }));
    const { provider } = providerWith(processor);
    provider.getTracer('t').startSpan('alone').end();
    expect(exporter.counts).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(exporter.counts).toEqual([1]);
  });

  it('gives up an export that outlasts exportTimeoutMillis', async () => {
    const exporter: BatchExporter = { export() {}, shutdown: async () => {} };
    const processor = new EncodingSpanProcessor(exporter, limits({ exportTimeoutMillis: 30 }));
    const { provider } = providerWith(processor);
    provider.getTracer('t').startSpan('stuck').end();
    await expect(processor.forceFlush()).rejects.toThrow('Timeout');
  });

  it('sends what is waiting on shutdown, then ignores new spans', async () => {
    const exporter = capturingExporter();
    const processor = new EncodingSpanProcessor(exporter);
    const { provider } = providerWith(processor);
    const tracer = provider.getTracer('t');
    tracer.startSpan('before').end();
    await processor.shutdown();
    tracer.startSpan('after').end();
    await processor.forceFlush();
    expect(exporter.counts).toEqual([1]);
  });
});

describe('otlpProtobufSpanProcessor', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('is used for the default exporter and protocol only', () => {
    expect(wantsOtlpProtobuf({})).toBe(true);
    expect(wantsOtlpProtobuf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toBe(true);
    expect(wantsOtlpProtobuf({ OTEL_TRACES_EXPORTER: ' otlp , otlp ' })).toBe(true);
    expect(wantsOtlpProtobuf({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe(false);
    expect(wantsOtlpProtobuf({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe(true);
    expect(wantsOtlpProtobuf({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toBe(false);
    expect(wantsOtlpProtobuf({ OTEL_TRACES_EXPORTER: 'console' })).toBe(false);
    expect(wantsOtlpProtobuf({ OTEL_TRACES_EXPORTER: 'otlp,zipkin' })).toBe(false);
    expect(wantsOtlpProtobuf({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(otlpProtobufSpanProcessor({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBeUndefined();
  });

  it('reads OTEL_BSP_* as the SDK does, ignoring values that are not non-negative numbers', () => {
    expect(batchLimitsFromEnv({})).toEqual(DEFAULT_BATCH_LIMITS);
    expect(
      batchLimitsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10', OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_EXPORT_TIMEOUT: ' 500 ' }),
    ).toEqual({ maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 0, exportTimeoutMillis: 500 });
    expect(batchLimitsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: 'many', OTEL_BSP_SCHEDULE_DELAY: '-1' })).toEqual(DEFAULT_BATCH_LIMITS);
  });

  it('posts the request to the configured endpoint over HTTP, as the SDK exporter would', async () => {
    const received: Array<{ path?: string; type?: string; body: Buffer }> = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url, type: request.headers['content-type'], body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      const processor = otlpProtobufSpanProcessor(process.env);
      expect(processor).toBeInstanceOf(EncodingSpanProcessor);
      const { provider, finished } = providerWith(processor!);
      makeSpans(provider);
      await processor!.shutdown();
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ path: '/v1/traces', type: 'application/x-protobuf' });
      expect(received[0]!.body.toString('hex')).toBe(Buffer.from(ProtobufTraceSerializer.serializeRequest(finished())!).toString('hex'));
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
