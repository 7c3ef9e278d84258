import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resources, tracing } from '@opentelemetry/sdk-node';
import { describe, expect, it } from 'vitest';
import { EncodedBatch } from '../../../src/telemetry/otlp/EncodedBatch.js';
import { EncodedEntryCache } from '../../../src/telemetry/otlp/EncodedEntryCache.js';
import { ProtobufBuffer } from '../../../src/telemetry/otlp/ProtobufBuffer.js';

/** A key and value as one length-delimited string pair, the way a cache user would write it in place. */
function writePair(out: ProtobufBuffer, key: string, value: string | number | boolean): void {
  out.tag(1, 2);
  out.string(key);
  out.tag(2, 0);
  out.varint(typeof value === 'number' ? value : String(value).length);
}

function encodedInPlace(key: string, value: string | number | boolean): Uint8Array {
  const out = new ProtobufBuffer(16);
  writePair(out, key, value);
  return out.finish();
}

describe('EncodedEntryCache', () => {
  it('gives the bytes the encoder writes, made once per key and value', () => {
    let made = 0;
    const cache = new EncodedEntryCache((out, key, value) => {
      made += 1;
      writePair(out, key, value);
    });
    const first = cache.get('http.route', '/v1/models');
    expect(Buffer.from(first!)).toEqual(Buffer.from(encodedInPlace('http.route', '/v1/models')));
    expect(cache.get('http.route', '/v1/models')).toBe(first);
    expect(Buffer.from(cache.get('http.response.status_code', 200)!)).toEqual(Buffer.from(encodedInPlace('http.response.status_code', 200)));
    expect(cache.get('http.response.status_code', '200')).not.toBe(cache.get('http.response.status_code', 200));
    expect(Buffer.from(cache.get('clé', 'défaut')!)).toEqual(Buffer.from(encodedInPlace('clé', 'défaut')));
    expect(made).toBe(4);
    expect(cache.size).toEqual({ keys: 3, values: 4 });
  });

  it('keeps nothing for values that rarely repeat: long strings, fractions, large numbers, objects', () => {
    const cache = new EncodedEntryCache(writePair);
    for (const value of ['x'.repeat(65), 0.25, 2 ** 40, -(2 ** 40), Number.NaN, [1, 2], { a: 1 }, new Uint8Array(2), undefined, null]) {
      expect(cache.get('k', value)).toBeUndefined();
    }
    expect(cache.get('k'.repeat(65), 'v')).toBeUndefined();
    expect(cache.size).toEqual({ keys: 0, values: 0 });
    expect(cache.get('k', 'x'.repeat(64))).toBeDefined();
    expect(cache.get('k', true)).toBeDefined();
    expect(cache.get('k', -7)).toBeDefined();
  });

  it("stops keeping a key's values once it shows more than 16 (a client's address), and keys past 128", () => {
    const cache = new EncodedEntryCache(writePair);
    for (let i = 0; i < 16; i++) expect(cache.get('client.address', `203.0.113.${i}`)).toBeDefined();
    expect(cache.size).toEqual({ keys: 1, values: 16 });
    expect(cache.get('client.address', '203.0.113.16')).toBeUndefined();
    expect(cache.size).toEqual({ keys: 1, values: 0 });
    expect(cache.get('client.address', '203.0.113.1')).toBeUndefined();
    for (let i = 1; i < 200; i++) cache.get(`key.${i}`, 'v');
    expect(cache.size).toEqual({ keys: 128, values: 127 });
    expect(cache.get('key.150', 'v')).toBeUndefined();
    expect(cache.get('key.1', 'v')).toBeDefined();
  });
});

describe('span encoding with kept entries', () => {
  it('writes what the SDK serializer writes when values and names vary past what is kept', () => {
    const spans: tracing.ReadableSpan[] = [];
    const provider = new tracing.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'openclaw-gateway' }),
      spanProcessors: [{ onStart() {}, onEnd: (span) => void spans.push(span), forceFlush: async () => {}, shutdown: async () => {} }],
    });
    const tracer = provider.getTracer('openclaw-gateway', '0.1.0');
    for (let i = 0; i < 300; i++) {
      const server = tracer.startSpan(`rpc method${i % 150}`, { kind: SpanKind.SERVER, attributes: { 'rpc.method': `method${i % 150}`, 'http.response.status_code': 200 + (i % 3) } });
      const auth = tracer.startSpan('auth', { attributes: { 'client.address': `203.0.113.${i % 250}`, 'openclaw.auth.result': i % 2 ? 'success' : 'failure' } }, trace.setSpan(ROOT_CONTEXT, server));
      auth.addEvent(`openclaw.ratelimit.${i % 20}`, { 'openclaw.ratelimit.remaining': i % 40, 'openclaw.ratelimit.blocked': i % 7 === 0 });
      auth.end();
      server.end();
    }
    for (let from = 0; from < spans.length; from += 100) {
      const batch = new EncodedBatch();
      const slice = spans.slice(from, from + 100);
      for (const span of slice) batch.add(span);
      expect(Buffer.from(batch.encodeRequest()).toString('hex')).toBe(Buffer.from(ProtobufTraceSerializer.serializeRequest(slice)!).toString('hex'));
    }
  });
});
