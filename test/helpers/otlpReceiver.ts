// A minimal OTLP/HTTP trace receiver, for both encodings: protobuf (the exporter's default) and JSON
// (OTEL_EXPORTER_OTLP_PROTOCOL=http/json). It accepts POST /v1/traces, keeps every raw payload (for "no
// secret anywhere" checks; protobuf bodies as latin1, where ASCII text stays readable) and the spans,
// flattened with their resource and scope.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpTraces } from './otlpProtobuf.js';

export type AttributeMap = Record<string, unknown>;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: AttributeMap;
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: AttributeMap }>;
  readonly status: { readonly code?: number; readonly message?: string };
  readonly resource: AttributeMap;
  readonly scope: string;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Every request body as received. */
  readonly payloads: string[];
  waitForSpans(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_SPANS = 20_000;

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name: string; attributes?: OtlpKeyValue[] }>;
  status?: { code?: number; message?: string };
}
export interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

export async function startOtlpReceiver(host = '127.0.0.1'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const payloads: string[] = [];
  const waiters = new Set<() => void>();

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    const contentType = String(request.headers['content-type'] ?? '');
    const json = contentType.includes('json');
    if (!json && !contentType.includes('application/x-protobuf')) {
      response.writeHead(415, { 'content-type': 'text/plain' }).end('this receiver speaks OTLP/HTTP JSON and protobuf');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        response.writeHead(413).end();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    payloads.push(body.toString(json ? 'utf8' : 'latin1'));
    const traces = json ? (JSON.parse(body.toString('utf8')) as OtlpTraces) : decodeOtlpTraces(body);
    for (const span of flatten(traces)) if (spans.length < MAX_SPANS) spans.push(span);
    if (json) response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    for (const wake of waiters) wake();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    spans,
    payloads,
    waitForSpans: (predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(spans)) return;
          cleanup();
          resolve([...spans]);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for spans; received: ${spans.map((s) => s.name).join(', ') || 'none'}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function flatten(traces: OtlpTraces): ReceivedSpan[] {
  const result: ReceivedSpan[] = [];
  for (const resourceSpans of traces.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        result.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind ?? 0,
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
          status: span.status ?? {},
          resource,
          scope: scopeSpans.scope?.name ?? '',
        });
      }
    }
  }
  return result;
}

function attributesOf(list: OtlpKeyValue[] | undefined): AttributeMap {
  const map: AttributeMap = {};
  for (const { key, value } of list ?? []) map[key] = valueOf(value);
  return map;
}

function valueOf(value: OtlpAnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}
