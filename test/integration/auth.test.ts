import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { stateDirWithDevice } from '../helpers/seededDevice.js';
import { httpRequest, type HttpRequestOptions } from '../helpers/httpRequest.js';

const TOKEN = 'integration-token-5f2a9c';
const PASSWORD = 'integration-password-81d3';
const DEVICE_TOKEN = 'Zm9vYmFyYmF6cXV4LWRldmljZS10b2tlbi0xMjM0NTY'; // 43 chars base64url
const DEVICE_ID = 'dev-itest-1';


let gateway: GatewayProcess;
/** A remote-looking request: a loopback source address other than the trusted proxy, and a non-loopback Host. */
let remote: (path: string, options?: HttpRequestOptions & { from?: string }) => ReturnType<typeof httpRequest>;
let nextClient = 10;
const freshClient = () => `127.0.0.${nextClient++}`;

beforeAll(async () => {
  gateway = await startGateway({
    stateDir: stateDirWithDevice({ token: DEVICE_TOKEN, deviceId: DEVICE_ID }),
    config: {
      auth: { token: TOKEN, password: PASSWORD, trustedProxy: { enabled: true, header: 'X-Forwarded-User' } },
      trustedProxies: ['127.0.0.1'],
      tailscale: { mode: 'enabled' },
    },
  });
  remote = (path, { from, headers, ...rest } = {}) =>
    httpRequest(`${gateway.url}${path}`, {
      localAddress: from ?? freshClient(),
      headers: { host: 'gateway.example.com', ...headers },
      ...rest,
    });
});

afterAll(async () => {
  await gateway?.stop();
});

const whoami = async (options: HttpRequestOptions & { from?: string }) => {
  const response = await remote('/v1/whoami', options);
  return { status: response.status, body: response.status === 200 ? response.json() : response.json() };
};

describe('each method alone', () => {
  it('loopback: 127.0.0.1 peer, loopback Host, no forwarding headers', async () => {
    const response = await httpRequest(`${gateway.url}/v1/whoami`);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ method: 'loopback', identity: 'local', role: 'control', clientIp: '127.0.0.1' });
  });

  it('loopback over IPv6 ([::1] with a port) and with Host localhost', async () => {
    const v6 = await httpRequest(`http://[::1]:${gateway.port}/v1/whoami`);
    expect(v6.json()).toMatchObject({ method: 'loopback', clientIp: '::1' });
    const named = await httpRequest(`${gateway.url}/v1/whoami`, { headers: { host: 'localhost' } });
    expect(named.json()).toMatchObject({ method: 'loopback' });
  });

  it('device token (role node)', async () => {
    const from = freshClient();
    expect(await whoami({ from, headers: { authorization: `Bearer ${DEVICE_TOKEN}` } })).toEqual({
      status: 200,
      body: { method: 'device', identity: `device:${DEVICE_ID}`, role: 'node', clientIp: from },
    });
  });

  it('bearer token, in Authorization or X-OpenClaw-Token', async () => {
    const from = freshClient();
    expect(await whoami({ from, headers: { authorization: `Bearer ${TOKEN}` } })).toEqual({
      status: 200,
      body: { method: 'token', identity: 'token', role: 'control', clientIp: from },
    });
    expect((await whoami({ headers: { 'x-openclaw-token': TOKEN } })).body).toMatchObject({ method: 'token' });
  });

  it('password, sent as a bearer token', async () => {
    expect((await whoami({ headers: { authorization: `Bearer ${PASSWORD}` } })).body).toMatchObject({
      method: 'password',
      identity: 'password',
      role: 'control',
    });
  });

  it('Tailscale: the login header from a loopback peer (Tailscale Serve)', async () => {
    expect((await whoami({ headers: { 'tailscale-user-login': 'alice@example.com' } })).body).toMatchObject({
      method: 'tailscale',
      identity: 'tailscale:alice@example.com',
      role: 'control',
    });
  });

  it('trusted proxy: peer 127.0.0.1 is trusted, identity from X-Forwarded-User, client IP from X-Forwarded-For', async () => {
    const result = await whoami({
      from: '127.0.0.1',
      headers: { 'x-forwarded-user': 'bob', 'x-forwarded-for': '198.51.100.9, 203.0.113.10' },
    });
    expect(result).toEqual({ status: 200, body: { method: 'trusted-proxy', identity: 'proxy:bob', role: 'control', clientIp: '203.0.113.10' } });
  });
});

describe('failures', () => {
  it('401 JSON with WWW-Authenticate when nothing authenticates', async () => {
    const response = await remote('/v1/whoami');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="openclaw"');
    expect(response.headers['content-type']).toMatch(/^application\/json(;|$)/);
    expect(response.json()).toEqual({ error: { message: expect.any(String), type: 'unauthorized' } });
  });

  it.each([
    ['a wrong token', { authorization: 'Bearer wrong' }],
    // HTTP strips whitespace around a header value; whitespace inside the value reaches the comparison untrimmed.
    ['the token after two spaces', { authorization: `Bearer  ${TOKEN}` }],
    ['the token with a space inside', { 'x-openclaw-token': `${TOKEN.slice(0, 5)} ${TOKEN.slice(5)}` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the device token with one character changed', { authorization: `Bearer ${DEVICE_TOKEN.slice(0, -1)}A` }],
    ['an empty proxy header from the trusted proxy', { 'x-forwarded-user': '' }],
  ])('401 for %s', async (_name, headers) => {
    expect((await remote('/v1/whoami', { headers })).status).toBe(401);
  });

  it('a secret in the query string is refused with 400 invalid_request, even a correct one', async () => {
    const response = await remote(`/v1/models?token=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { type: 'invalid_request' } });
    expect(response.body).not.toContain(TOKEN);
  });

  it('/v1/status and /v1/models need authentication; /healthz and unknown routes do not', async () => {
    expect((await remote('/v1/status')).status).toBe(401);
    expect((await remote('/v1/models')).status).toBe(401);
    expect((await remote('/healthz')).status).toBe(200);
    expect((await remote('/no/such/route')).status).toBe(404);
    expect((await remote('/v1/status', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });
});

describe('loopback conditions, each failing alone', () => {
  it('Host not loopback → not loopback', async () => {
    const response = await httpRequest(`${gateway.url}/v1/whoami`, { headers: { host: 'gateway.example.com' } });
    expect(response.status).toBe(401);
  });

  it.each(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'])(
    '%s present → not loopback',
    async (header) => {
      const value = header === 'forwarded' ? 'for=127.0.0.1' : header === 'x-forwarded-proto' ? 'http' : header === 'x-forwarded-host' ? 'localhost' : '127.0.0.1';
      const response = await httpRequest(`${gateway.url}/v1/whoami`, { localAddress: freshClient(), headers: { [header]: value } });
      expect(response.status).toBe(401);
    },
  );

  it('peer not loopback cannot be produced on a loopback-only network; a loopback peer other than 127.0.0.1 still counts', async () => {
    const from = freshClient();
    const response = await httpRequest(`${gateway.url}/v1/whoami`, { localAddress: from });
    expect(response.json()).toMatchObject({ method: 'loopback', clientIp: from });
  });

  it('allowLoopback: false turns the bypass off', async () => {
    const strict = await startGateway({ config: { auth: { token: TOKEN, allowLoopback: false } } });
    try {
      expect((await httpRequest(`${strict.url}/v1/whoami`)).status).toBe(401);
      const withToken = await httpRequest(`${strict.url}/v1/whoami`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(withToken.json()).toMatchObject({ method: 'token' });
    } finally {
      await strict.stop();
    }
  });
});

describe('priority when several are present', () => {
  it.each<[string, Record<string, string>, string, string | undefined]>([
    ['loopback beats a wrong token', { authorization: 'Bearer wrong' }, 'loopback', undefined],
    ['device beats a proxy header', { authorization: `Bearer ${DEVICE_TOKEN}`, 'x-forwarded-user': 'bob', 'x-forwarded-for': '203.0.113.1' }, 'device', '127.0.0.1'],
    ['token beats Tailscale', { authorization: `Bearer ${TOKEN}`, 'tailscale-user-login': 'alice@example.com', 'x-real-ip': '1.1.1.1' }, 'token', undefined],
    ['password beats the proxy header', { authorization: `Bearer ${PASSWORD}`, 'x-forwarded-user': 'bob', 'x-forwarded-for': '203.0.113.2' }, 'password', '127.0.0.1'],
    ['Tailscale beats the proxy header', { 'tailscale-user-login': 'alice@example.com', 'x-forwarded-user': 'bob', 'x-forwarded-for': '203.0.113.3' }, 'tailscale', '127.0.0.1'],
    ['a wrong token does not stop the proxy header', { authorization: 'Bearer wrong', 'x-forwarded-user': 'bob', 'x-forwarded-for': '203.0.113.4' }, 'trusted-proxy', '127.0.0.1'],
  ])('%s', async (_name, headers, method, from) => {
    const response = await httpRequest(`${gateway.url}/v1/whoami`, { localAddress: from, headers });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ method });
  });
});

describe('client IP', () => {
  it('X-Forwarded-For from an untrusted peer never changes the client IP', async () => {
    const from = freshClient();
    const response = await remote('/v1/whoami', {
      from,
      headers: { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.50', 'x-real-ip': '203.0.113.51' },
    });
    expect(response.json()).toMatchObject({ clientIp: from });
  });

  it('a proxy header from an untrusted peer is not an identity', async () => {
    const response = await remote('/v1/whoami', { headers: { 'x-forwarded-user': 'mallory', 'x-forwarded-for': '203.0.113.52' } });
    expect(response.status).toBe(401);
  });

  it('the rightmost untrusted hop, not the (spoofable) leftmost, behind the trusted proxy', async () => {
    const response = await httpRequest(`${gateway.url}/v1/whoami`, {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '6.6.6.6, ::ffff:203.0.113.60, 127.0.0.1' },
    });
    expect(response.json()).toMatchObject({ clientIp: '203.0.113.60' });
  });
});

describe('routes', () => {
  it('GET /v1/models lists the openclaw model', async () => {
    const response = await httpRequest(`${gateway.url}/v1/models`);
    expect(response.status).toBe(200);
    const body = response.json<{ object: string; data: Array<Record<string, unknown>> }>();
    expect(body).toEqual({ object: 'list', data: [{ id: 'openclaw', object: 'model', created: expect.any(Number), owned_by: 'openclaw' }] });
    expect(Number.isInteger(body.data[0]?.created)).toBe(true);
  });
});

describe('logs', () => {
  it('write "auth failed" with clientIp, reason, path, transport, and never a secret', async () => {
    await remote('/v1/whoami?x=1', { from: '127.0.0.99', headers: { authorization: `Bearer ${TOKEN}x` } });
    const entry = await gateway.waitForLog((e) => e.msg === 'auth failed' && e.clientIp === '127.0.0.99');
    expect(entry).toMatchObject({ reason: 'invalid credentials', path: '/v1/whoami', transport: 'http' });
    await gateway.settled();
    const output = gateway.lines.join('\n') + gateway.stderr();
    for (const secret of [TOKEN, PASSWORD, DEVICE_TOKEN]) expect(output).not.toContain(secret);
  });
});
