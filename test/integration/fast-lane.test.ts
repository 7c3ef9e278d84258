// The HTTP fast lane (src/http/FastLane.ts) answers a plain `GET /v1/models` before fastify; the same
// route with a trailing slash, a body or as HEAD goes through fastify. Both must answer byte for byte alike:
// status, headers (but Date), body — for success, every refusal, and a blocked client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { stateDirWithDevice } from '../helpers/seededDevice.js';
import { httpRequest, type HttpRequestOptions, type HttpResponse } from '../helpers/httpRequest.js';

const TOKEN = 'fast-lane-token-7c1e0b';
const PASSWORD = 'fast-lane-password-2a9d';
const DEVICE_TOKEN = 'ZmFzdC1sYW5lLWRldmljZS10b2tlbi0xMjM0NTY3ODk'; // 43 chars base64url
const DEVICE_ID = 'dev-fast-lane';

let gateway: GatewayProcess;
let nextClient = 20;
const freshClient = () => `127.0.0.${nextClient++}`;


beforeAll(async () => {
  gateway = await startGateway({ stateDir: stateDirWithDevice({ token: DEVICE_TOKEN, deviceId: DEVICE_ID }), config: { auth: { token: TOKEN, password: PASSWORD }, trustedProxies: ['127.0.0.1'] } });
});

afterAll(async () => {
  await gateway?.stop();
});

/** A remote-looking request (non-loopback Host) from `from`, or a local one when `local`. */
function get(path: string, from: string | null, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const headers = from === null ? { ...options.headers } : { host: 'gateway.example.com', ...options.headers };
  return httpRequest(`${gateway.url}${path}`, { localAddress: from ?? undefined, ...options, headers });
}

function comparable(response: HttpResponse) {
  const { date: _date, ...headers } = response.headers;
  return { status: response.status, headers, body: response.body };
}

/** The fast lane's answer and fastify's answer to the same request, each from its own fresh client. */
async function bothPaths(headers: Record<string, string>, local = false) {
  const lane = await get('/v1/models', local ? null : freshClient(), { headers });
  const routed = await get('/v1/models/', local ? null : freshClient(), { headers });
  return { lane: comparable(lane), routed: comparable(routed) };
}

describe('fast lane: GET /v1/models answers exactly like the fastify route', () => {
  it.each([
    ['bearer token', { authorization: `Bearer ${TOKEN}` }, 200],
    ['X-OpenClaw-Token', { 'x-openclaw-token': TOKEN }, 200],
    ['password', { authorization: `Bearer ${PASSWORD}` }, 200],
    ['device token', { authorization: `Bearer ${DEVICE_TOKEN}` }, 200],
    ['wrong secret', { authorization: `Bearer not-${TOKEN}` }, 401],
    ['no credentials', {}, 401],
  ])('%s', async (_name, headers, status) => {
    const { lane, routed } = await bothPaths(headers);
    expect(lane.status).toBe(status);
    expect(lane).toEqual(routed);
    if (status === 401) {
      expect(lane.headers['www-authenticate']).toBe('Bearer realm="openclaw"');
      expect(lane.headers['content-type']).toBe('application/json');
    } else {
      expect(JSON.parse(lane.body)).toMatchObject({ object: 'list', data: [{ id: 'openclaw' }] });
    }
  });

  it('loopback caller without credentials', async () => {
    const { lane, routed } = await bothPaths({}, true);
    expect(lane.status).toBe(200);
    expect(lane).toEqual(routed);
  });

  it('a blocked client gets the same 429 on both paths, even with the right token', async () => {
    const client = '203.0.113.77'; // through the trusted proxy (127.0.0.1)
    const viaProxy = { 'x-forwarded-for': client };
    for (let i = 0; i < 20; i++) {
      const refused = await get('/v1/models', null, { headers: { ...viaProxy, authorization: `Bearer wrong-${i}` } });
      expect(refused.status).toBe(401);
    }
    const lane = comparable(await get('/v1/models', null, { headers: { ...viaProxy, authorization: `Bearer ${TOKEN}` } }));
    const routed = comparable(await get('/v1/models/', null, { headers: { ...viaProxy, authorization: `Bearer ${TOKEN}` } }));
    expect(lane.status).toBe(429);
    expect(JSON.parse(lane.body)).toEqual({
      error: { message: 'Too many failed authentication attempts. Please try again later.', type: 'rate_limited' },
    });
    // Retry-After counts down between the two requests; everything else is identical.
    expect(Math.abs(Number(lane.headers['retry-after']) - Number(routed.headers['retry-after']))).toBeLessThanOrEqual(1);
    expect({ ...lane, headers: { ...lane.headers, 'retry-after': '' } }).toEqual({ ...routed, headers: { ...routed.headers, 'retry-after': '' } });
  });

  it('requests the lane does not take still work: HEAD, a query string, a GET with a body', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const head = await get('/v1/models', freshClient(), { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await get('/v1/models?limit=1', freshClient(), { headers: auth })).status).toBe(200);
    expect((await get('/v1/models?token=x', freshClient(), { headers: auth })).status).toBe(400);
    // With a Content-Length: node's client would send a GET body chunked, and fastify answering a chunked
    // GET before its last chunk arrives is fastify's behaviour, not the lane's (bare fastify does the same).
    const withBody = await get('/v1/models', freshClient(), { headers: { ...auth, 'content-type': 'application/json', 'content-length': '2' }, body: '{}' });
    expect(withBody.status).toBe(200);
  });

  it('answers on the IPv6 loopback listener too', async () => {
    const response = await httpRequest(`http://[::1]:${gateway.port}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
  });
});
