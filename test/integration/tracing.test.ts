import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/RedisStore.js';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest, type HttpResponse } from '../helpers/httpRequest.js';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlpReceiver.js';
import { redisSettings, sharedRedis, type RedisServer } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { connectRpc, type RpcResponse } from '../helpers/wsRpc.js';

const TOKEN = 'trace-token-5f0c2a9e7d3b41c6a8e2';
const WRONG_SECRET = 'wrong-secret-91d7e3f0b2c84a6d';
const QUERY_SECRET = 'query-secret-4e8a1c7f29b3d506';
const UPSTREAM_KEY = 'upstream-key-0d9c8b7a6f5e4d3c';
const REPLICA_ID = 'replica-traced-1';
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
// A forwarding header turns the loopback bypass off, so the token (or its absence) decides.
const REMOTE = { 'x-forwarded-for': '203.0.113.9' };

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const modelsCaller = { traceId: hex(16), spanId: hex(8) };
const chatCaller = { traceId: hex(16), spanId: hex(8) };
const deviceCaller = { traceId: hex(16), spanId: hex(8) };
// A paired device known to Redis only: its first request looks it up there (two commands, an await between).
const DEVICE_TOKEN = randomBytes(32).toString('base64url');
const DEVICE_ID = `device-${hex(4)}`;
const KEY_PREFIX = `tracing-${hex(4)}:`;
const traceparentOf = (caller: { traceId: string; spanId: string }) => `00-${caller.traceId}-${caller.spanId}-01`;

let receiver: OtlpReceiver;
let upstream: TestUpstream;
let redis: RedisServer;
let gateway: GatewayProcess;
let ok: HttpResponse;
let unauthorized: HttpResponse;
let querySecret: HttpResponse;
let chat: HttpResponse;
let deviceOk: HttpResponse;
let wsStatus: RpcResponse;
let spans: ReceivedSpan[];

/**
 * The tracing environment of a gateway exporting to `receiver` without delay: OTLP/protobuf by default (the
 * gateway's own encoder), or the SDK's http/json exporter.
 */
const exportingTo = (target: OtlpReceiver, sampler: string, protocol: 'http/protobuf' | 'http/json' = 'http/protobuf') => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: target.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_TRACES_SAMPLER: sampler,
  OTEL_BSP_SCHEDULE_DELAY: '50',
});
const serverSpans = () => spans.filter((span) => span.kind === SPAN_KIND.server);
const childrenOf = (parent: ReceivedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId);
const byStatus = (status: number) => serverSpans().find((span) => span.attributes['http.response.status_code'] === status);

beforeAll(async () => {
  [receiver, upstream, redis] = await Promise.all([startOtlpReceiver(), startUpstream(), sharedRedis()]);
  gateway = await startGateway({
    env: {
      OPENCLAW_GATEWAY_TOKEN: TOKEN,
      OPENCLAW_REPLICA_ID: REPLICA_ID,
      OPENCLAW_REDIS_URL: redis.url,
      OPENCLAW_REDIS_KEY_PREFIX: KEY_PREFIX,
      OPENCLAW_UPSTREAM_URL: upstream.url,
      OPENCLAW_UPSTREAM_API_KEY: UPSTREAM_KEY,
      OPENCLAW_UPSTREAM_MODEL: 'traced-model',
      ...exportingTo(receiver, 'always_on'),
      K8S_POD_NAME: 'gateway-pod-0',
      K8S_NAMESPACE_NAME: 'gateway-ns',
      K8S_NODE_NAME: 'node-a',
    },
  });
  ok = await httpRequest(`${gateway.url}/v1/models`, {
    headers: { ...REMOTE, authorization: `Bearer ${TOKEN}`, traceparent: traceparentOf(modelsCaller) },
  });
  unauthorized = await httpRequest(`${gateway.url}/v1/models`, { headers: { ...REMOTE, authorization: `Bearer ${WRONG_SECRET}` } });
  querySecret = await httpRequest(`${gateway.url}/v1/models?token=${QUERY_SECRET}`, { headers: REMOTE });
  chat = await httpRequest(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      ...REMOTE,
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      traceparent: traceparentOf(chatCaller),
      tracestate: 'caller=1',
    },
    body: JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await seedDevice();
  deviceOk = await httpRequest(`${gateway.url}/v1/models`, {
    headers: { ...REMOTE, authorization: `Bearer ${DEVICE_TOKEN}`, traceparent: traceparentOf(deviceCaller) },
  });
  const { client } = await connectRpc(gateway.wsUrl, { role: 'control', auth: { token: TOKEN } }, { headers: REMOTE });
  wsStatus = await client.call('status');
  client.close();
  spans = await receiver.waitForSpans(
    (received) =>
      received.filter((span) => span.kind === SPAN_KIND.server).length >= 4 &&
      received.some((span) => span.name === 'rpc status') &&
      received.some((span) => span.kind === SPAN_KIND.client && span.attributes['http.request.method'] === 'POST'),
    15_000,
  );
  // Let the batch processor deliver whatever else ended with these requests.
  await new Promise((resolve) => setTimeout(resolve, 300));
  spans = [...receiver.spans];
}, 60_000);

async function seedDevice(): Promise<void> {
  const store = new RedisStore(redisSettings({ url: redis.url, keyPrefix: KEY_PREFIX }), 'tracing-test-seed');
  await store.start();
  const tokenHash = createHash('sha256').update(DEVICE_TOKEN).digest('hex');
  await store.saveDevice({ deviceId: DEVICE_ID, displayName: 'traced phone', platform: 'ios', tokenHash, createdAt: Date.now(), lastSeenAt: null });
  await store.close();
}

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([receiver?.close(), upstream?.close(), redis?.stop()]);
});

describe('tracing (OTLP/HTTP protobuf to a test receiver)', () => {
  it('served the traffic the assertions are about', () => {
    expect([ok.status, unauthorized.status, querySecret.status, chat.status]).toEqual([200, 401, 400, 200]);
    expect(wsStatus.result).toBeDefined();
  });

  it('exports one SERVER span per request, named after the route, with HTTP attributes', () => {
    const success = byStatus(200)!;
    expect(success).toBeDefined();
    expect(success.name).toBe('GET /v1/models');
    expect(success.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/v1/models',
      'url.path': '/v1/models',
      'http.response.status_code': 200,
    });
    expect(byStatus(401)).toMatchObject({ name: 'GET /v1/models', attributes: { 'http.response.status_code': 401 } });
  });

  it('continues the caller trace from an incoming traceparent', () => {
    const success = byStatus(200)!;
    expect(success.traceId).toBe(modelsCaller.traceId);
    expect(success.parentSpanId).toBe(modelsCaller.spanId);
    // A request without traceparent starts a trace of its own.
    const rejected = byStatus(401)!;
    expect(rejected.parentSpanId).toBe('');
    expect(rejected.traceId).not.toBe(modelsCaller.traceId);
  });

  it('links a handler span under the request span for routes with a body (GET handlers run in the request span)', () => {
    const chatServer = serverSpans().find((span) => span.name === 'POST /v1/chat/completions')!;
    const handler = childrenOf(chatServer).find((span) => span.name.startsWith('handler'));
    expect(handler).toBeDefined();
    expect(handler!.attributes['http.route']).toBe('/v1/chat/completions');
    expect(childrenOf(byStatus(200)!).filter((span) => span.name.startsWith('handler'))).toEqual([]);
  });

  it('describes the service: name, version, replica id and the Downward API k8s attributes', () => {
    for (const span of spans) {
      expect(span.resource).toMatchObject({
        'service.name': 'openclaw-gateway',
        'service.version': VERSION,
        'service.instance.id': REPLICA_ID,
        'k8s.pod.name': 'gateway-pod-0',
        'k8s.namespace.name': 'gateway-ns',
        'k8s.node.name': 'node-a',
      });
    }
  });

  it('records an `auth` span per authenticated request, child of the request span', () => {
    const success = byStatus(200)!;
    const auth = childrenOf(success).find((span) => span.name === 'auth');
    expect(auth).toBeDefined();
    expect(auth!.attributes).toMatchObject({
      'openclaw.auth.method': 'token',
      'openclaw.auth.result': 'success',
      'client.address': '127.0.0.1',
    });
    const failed = childrenOf(byStatus(401)!).find((span) => span.name === 'auth');
    expect(failed?.attributes).toMatchObject({ 'openclaw.auth.method': 'none', 'openclaw.auth.result': 'failure' });
  });

  it('traces a device lookup in Redis under the auth span, every command of it', () => {
    expect(deviceOk.status).toBe(200);
    const request = serverSpans().find((span) => span.traceId === deviceCaller.traceId)!;
    const auth = childrenOf(request).find((span) => span.name === 'auth')!;
    expect(auth.attributes).toMatchObject({ 'openclaw.auth.method': 'device', 'openclaw.auth.result': 'success' });
    // The index read, then (after an await) the record: the second one must still find its parent.
    const commands = childrenOf(auth).map((span) => String(span.attributes['db.query.text']).split(' ')[0]);
    expect(commands).toEqual(['hget', 'hgetall']);
  });

  it('records the rate-limit decision as an event of the auth span', () => {
    const failed = childrenOf(byStatus(401)!).find((span) => span.name === 'auth')!;
    expect(failed.events).toContainEqual({
      name: 'openclaw.ratelimit.failure',
      attributes: { 'openclaw.ratelimit.verdict': 'counted', 'openclaw.ratelimit.failures': 1 },
    });
    const succeeded = childrenOf(byStatus(200)!).find((span) => span.name === 'auth')!;
    expect(succeeded.events).toEqual([]);
  });

  it('traces a WebSocket session: ws.connect with its auth span, then one span per RPC call', () => {
    const connect = spans.find((span) => span.name === 'ws.connect');
    expect(connect?.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'connect', 'client.address': '127.0.0.1' });
    const auth = childrenOf(connect!).find((span) => span.name === 'auth');
    expect(auth?.attributes).toMatchObject({
      'openclaw.auth.method': 'token',
      'openclaw.auth.result': 'success',
      'openclaw.auth.transport': 'ws',
    });
    const status = spans.find((span) => span.name === 'rpc status');
    expect(status?.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'status' });
  });

  it('traces Redis commands only inside a request, without their arguments', () => {
    const redisSpans = spans.filter((span) => span.attributes['db.system.name'] === 'redis');
    // The failed attempt is counted in Redis inside the auth span: request → auth → redis command.
    const failedAuth = childrenOf(byStatus(401)!).find((span) => span.name === 'auth')!;
    expect(childrenOf(failedAuth).some((span) => span.attributes['db.system.name'] === 'redis')).toBe(true);
    for (const span of redisSpans) {
      expect(span.parentSpanId).not.toBe('');
      expect(String(span.attributes['db.query.text'])).toMatch(/^\w+( \[\d+ args\])?$/);
    }
  });

  it('propagates W3C trace context to the upstream: the gateway client span, in the caller trace', async () => {
    const [forwarded] = await upstream.waitForRequests(1);
    const traceparent = forwarded!.headers.traceparent;
    expect(typeof traceparent).toBe('string');
    const [version, traceId, parentId, flags] = String(traceparent).split('-');
    expect(version).toBe('00');
    expect(traceId).toBe(chatCaller.traceId);
    expect(flags).toBe('01');
    // The upstream's parent is the gateway's undici CLIENT span, not the caller's span passed through.
    const clientSpan = spans.find((span) => span.spanId === parentId);
    expect(clientSpan).toMatchObject({ kind: SPAN_KIND.client, traceId: chatCaller.traceId });
    expect(clientSpan!.attributes['http.request.method']).toBe('POST');
    // Walk up: client span → … → the gateway's SERVER span, whose parent is the caller.
    let current: ReceivedSpan | undefined = clientSpan;
    while (current && current.kind !== SPAN_KIND.server) current = spans.find((span) => span.spanId === current!.parentSpanId);
    expect(current).toMatchObject({ name: 'POST /v1/chat/completions', parentSpanId: chatCaller.spanId });
  });

  it('never exports a secret: not the token, a wrong secret, a query-string secret or the upstream key', () => {
    const exported = receiver.payloads.join('\n');
    expect(exported.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, WRONG_SECRET, QUERY_SECRET, UPSTREAM_KEY]) expect(exported).not.toContain(secret);
    const rejected = byStatus(400)!;
    expect(rejected.attributes['url.path']).toBe('/v1/models');
  });
});

/**
 * A gateway of its own, exporting to a receiver of its own; both are stopped after `use`, so the receiver
 * returned holds whatever the gateway exported, its flush at shutdown included.
 */
async function ownGateway(sampler: string, env: Record<string, string>, use: (own: GatewayProcess) => Promise<void>): Promise<OtlpReceiver> {
  const ownReceiver = await startOtlpReceiver();
  // http/json here, so that the SDK's own exporter is exercised too.
  const own = await startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: TOKEN, ...exportingTo(ownReceiver, sampler, 'http/json'), ...env } });
  try {
    await use(own);
  } finally {
    await own.stop();
    await ownReceiver.close();
  }
  return ownReceiver;
}

describe('tracing switched off', () => {
  it('exports nothing with OTEL_SDK_DISABLED=true even when an endpoint is set', async () => {
    const silent = await ownGateway('always_on', { OTEL_SDK_DISABLED: 'true' }, async (own) => {
      const response = await httpRequest(`${own.url}/v1/models`, { headers: { ...REMOTE, authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
    });
    expect(silent.payloads).toEqual([]);
  }, 30_000);
});

describe('tracing inside an unsampled trace (parent-based sampling)', () => {
  it('creates no span of its own: not the request, not its auth, not its Redis commands', async () => {
    const caller = { traceId: hex(16), spanId: hex(8) };
    const notSampled = { ...REMOTE, traceparent: `00-${caller.traceId}-${caller.spanId}-00` };
    const env = { OPENCLAW_REDIS_URL: redis.url, OPENCLAW_REDIS_KEY_PREFIX: `tracing-unsampled-${hex(4)}:` };
    const receiver = await ownGateway('parentbased_always_on', env, async (own) => {
      // The fast lane's success (synchronous) and failure (the Redis limiter, after an await) paths.
      const statuses = [
        (await httpRequest(`${own.url}/v1/models`, { headers: { ...notSampled, authorization: `Bearer ${TOKEN}` } })).status,
        (await httpRequest(`${own.url}/v1/models`, { headers: { ...notSampled, authorization: `Bearer ${WRONG_SECRET}` } })).status,
      ];
      expect(statuses).toEqual([200, 401]);
      // A sampled request afterwards: once its spans are in, whatever the others made would be too.
      await httpRequest(`${own.url}/v1/models`, { headers: { ...REMOTE, authorization: `Bearer ${WRONG_SECRET}` } });
    });
    const received = receiver.spans;
    expect(received.filter((span) => span.traceId === caller.traceId)).toEqual([]);
    // Skipped, not started as the roots of traces of their own.
    expect(received.filter((span) => !span.parentSpanId).map((span) => span.name)).toEqual(['GET /v1/models']);
    const sampledAuth = received.find((span) => span.name === 'auth')!;
    expect(sampledAuth.events.map((event) => event.name)).toEqual(['openclaw.ratelimit.failure']);
    expect(received.filter((span) => span.kind === SPAN_KIND.client).length).toBeGreaterThan(0);
  }, 30_000);
});
