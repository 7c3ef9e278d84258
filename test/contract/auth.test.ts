// GATEWAY.md §4 and AUTHENTICATION.md "Authentication Methods" / "Troubleshooting", where the integration
// suites leave a sentence unshown: every loopback Host form, forwarding headers even when empty, "no trimming"
// ("Ensure no extra whitespace in token"), X-OpenClaw-Token on every route, Tailscale disabled, a custom
// trusted-proxy header, identities taken from the WebSocket upgrade, Tailscale `require` against a real device
// token, and one limiter counting HTTP and WebSocket failures together.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { fetchFrom } from '../helpers/http.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';
import { pairDevice } from './pairDevice.js';

const TOKEN = 'contract-auth-token-4e8a1f';
const PASSWORD = 'contract auth password';
const REMOTE_HOST = { host: 'gateway.example.com' };

let gateway: GatewayProcess;
let upstream: TestUpstream;
const clients: RpcClient[] = [];
let nextAddress = 10;
/** A loopback source address of its own per test step, so failures of one step never block another. */
const freshAddress = () => `127.0.9.${nextAddress++}`;

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startGateway({
    config: {
      auth: { token: TOKEN, password: PASSWORD, trustedProxy: { enabled: true, header: 'X-Auth-User' } },
      trustedProxies: ['127.0.0.1'],
      upstream: { url: upstream.url },
    },
  });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.kill();
  await upstream?.close();
});

const whoami = (options: { host?: string; from?: string; headers?: Record<string, string> }) =>
  httpRequest(`${gateway.url}/v1/whoami`, {
    localAddress: options.from ?? freshAddress(),
    headers: { ...(options.host === undefined ? {} : { host: options.host }), ...options.headers },
  });

async function wsConnect(params: Record<string, unknown>, options: { localAddress?: string; headers?: Record<string, string> } = {}) {
  const client = await openRpc(gateway.wsUrl, { localAddress: options.localAddress ?? freshAddress(), headers: options.headers });
  clients.push(client);
  return { client, response: await client.call('connect', params) };
}

describe('§4 loopback: Host is localhost, 127.0.0.1 or [::1], any port', () => {
  it.each(['localhost', 'localhost:PORT', '127.0.0.1', '127.0.0.1:PORT', '[::1]', '[::1]:PORT', 'localhost:1'])('Host %s is loopback', async (host) => {
    const response = await whoami({ host: host.replace('PORT', String(gateway.port)) });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ method: 'loopback', identity: 'local', role: 'control' });
  });

  it('over IPv6 too: peer ::1 with Host localhost:PORT', async () => {
    const response = await httpRequest(`http://[::1]:${gateway.port}/v1/whoami`, { headers: { host: `localhost:${gateway.port}` } });
    expect(response.json()).toEqual({ method: 'loopback', identity: 'local', role: 'control', clientIp: '::1' });
  });

  it.each(['127.0.0.2:PORT', 'localhost.example.com:PORT', 'example.com', '[::2]:PORT', '0.0.0.0:PORT'])('Host %s is not', async (host) => {
    expect((await whoami({ host: host.replace('PORT', String(gateway.port)) })).status).toBe(401);
  });

  it.each(['Forwarded', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'X-Real-IP'])(
    'an empty %s header is present all the same, and defeats loopback',
    async (header) => {
      expect((await whoami({ host: 'localhost', headers: { [header]: '' } })).status).toBe(401);
    },
  );
});

describe('§4 no trimming ("Ensure no extra whitespace in token")', () => {
  it.each([
    ['the token with a trailing space', `${TOKEN} `],
    ['the token with a leading space', ` ${TOKEN}`],
    ['the token with a trailing newline', `${TOKEN}\n`],
    ['the password with a trailing space', `${PASSWORD} `],
  ])('WebSocket connect refuses %s (-32001, close 1008)', async (_name, secret) => {
    const { client, response } = await wsConnect({ role: 'control', auth: { token: secret } });
    expect(response.error).toMatchObject({ code: -32001, data: { type: 'unauthorized' } });
    expect((await client.closed).code).toBe(1008);
  });

  it('HTTP refuses the token with a trailing no-break space (whitespace HTTP itself does not strip)', async () => {
    const response = await whoami({ host: REMOTE_HOST.host, headers: { 'x-openclaw-token': `${TOKEN}\u00a0` } });
    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ error: { type: 'unauthorized' } });
  });

  it('the exact token is accepted on both transports (the refusals above are about the whitespace)', async () => {
    expect((await whoami({ host: REMOTE_HOST.host, headers: { 'x-openclaw-token': TOKEN } })).json()).toMatchObject({ method: 'token' });
    expect((await wsConnect({ role: 'control', auth: { token: TOKEN } })).response.result).toMatchObject({ auth: { method: 'token' } });
  });
});

describe('§3 X-OpenClaw-Token works for every authenticated route', () => {
  it('models, whoami, status, chat completions, hooks and the WebSocket upgrade', async () => {
    const from = freshAddress();
    const headers = { ...REMOTE_HOST, 'x-openclaw-token': TOKEN, 'content-type': 'application/json' };
    const send = (method: string, path: string, body?: unknown) =>
      httpRequest(`${gateway.url}${path}`, { method, localAddress: from, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    expect((await send('GET', '/v1/models')).status).toBe(200);
    expect((await send('GET', '/v1/whoami')).json()).toMatchObject({ method: 'token', identity: 'token', clientIp: from });
    expect((await send('GET', '/v1/status')).status).toBe(200);
    const chat = await send('POST', '/v1/chat/completions', { model: 'openclaw', messages: [{ role: 'user', content: 'Hello' }] });
    expect(chat.status).toBe(200);
    expect(chat.json()).toMatchObject({ object: 'chat.completion' });
    expect(upstream.requests.at(-1)!.headers['x-openclaw-token']).toBeUndefined();
    expect((await send('POST', '/hooks/contract', { ok: 1 })).status).toBe(202);
    // without the header every one of them is refused
    const bare = (method: string, path: string) => httpRequest(`${gateway.url}${path}`, { method, localAddress: freshAddress(), headers: { ...REMOTE_HOST, 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    for (const [method, path] of [['GET', '/v1/models'], ['GET', '/v1/status'], ['POST', '/v1/chat/completions'], ['POST', '/hooks/contract']] as const) {
      expect((await bare(method, path)).status, `${method} ${path}`).toBe(401);
    }
    const { response } = await wsConnect({ role: 'control' }, { headers: { 'x-openclaw-token': TOKEN, 'x-forwarded-for': '203.0.113.70' } });
    expect(response.result).toMatchObject({ auth: { method: 'token', identity: 'token' } });
  });
});

describe('§4 Tailscale and trusted proxy, as configured', () => {
  it('Tailscale disabled (the default): Tailscale-User-Login is no identity', async () => {
    const response = await whoami({ host: REMOTE_HOST.host, headers: { 'tailscale-user-login': 'alice@example.com', 'x-forwarded-for': '100.64.0.7' } });
    expect(response.status).toBe(401);
  });

  it('the configured header (X-Auth-User) is the identity, X-Forwarded-User is not', async () => {
    const viaConfigured = await whoami({ from: '127.0.0.1', headers: { 'x-auth-user': 'bob', 'x-forwarded-for': '203.0.113.71' } });
    expect(viaConfigured.json()).toEqual({ method: 'trusted-proxy', identity: 'proxy:bob', role: 'control', clientIp: '203.0.113.71' });
    const viaDefault = await whoami({ from: '127.0.0.1', headers: { 'x-forwarded-user': 'bob', 'x-forwarded-for': '203.0.113.72' } });
    expect(viaDefault.status).toBe(401);
  });

  it('the header counts only from a peer in gateway.trustedProxies', async () => {
    const response = await whoami({ host: REMOTE_HOST.host, headers: { 'x-auth-user': 'mallory' } });
    expect(response.status).toBe(401);
  });

  it('§5 connect without auth.token takes the trusted-proxy identity of the upgrade request', async () => {
    const { response } = await wsConnect({ role: 'webchat' }, { localAddress: '127.0.0.1', headers: { 'x-auth-user': 'carol', 'x-forwarded-for': '203.0.113.73' } });
    expect(response.result).toMatchObject({ role: 'webchat', auth: { method: 'trusted-proxy', identity: 'proxy:carol' } });
  });
});

describe('§4 rate limit: WebSocket handshakes and HTTP requests share one limiter', () => {
  it('10 HTTP and 10 WebSocket failures make 20; the 21st attempt of either kind is refused, correct token included', async () => {
    const from = freshAddress();
    for (let failure = 0; failure < 10; failure += 1) {
      const response = await whoami({ from, host: REMOTE_HOST.host, headers: { authorization: `Bearer wrong-${failure}` } });
      expect(response.status).toBe(401);
      const { client, response: answer } = await wsConnect({ role: 'control', auth: { token: `wrong-${failure}` } }, { localAddress: from });
      expect(answer.error?.code).toBe(-32001);
      await client.closed;
    }
    const blocked = await fetchFrom(from, `${gateway.url}/v1/whoami`, { headers: { ...REMOTE_HOST, authorization: `Bearer ${TOKEN}` } });
    expect(blocked.status).toBe(429);
    expect(blocked.statusText).toBe('Too Many Requests');
    expect(blocked.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    const { response } = await wsConnect({ role: 'control', auth: { token: TOKEN } }, { localAddress: from });
    expect(response.error).toMatchObject({ code: -32002, data: { type: 'rate_limited', retryAfter: expect.any(Number) } });
  });
});

describe('§4 Tailscale require', () => {
  let strict: GatewayProcess;
  let control: RpcClient;
  beforeAll(async () => {
    strict = await startGateway({ config: { auth: { token: TOKEN }, tailscale: { mode: 'require' } } });
    control = (await connectRpc(strict.wsUrl, { role: 'control' })).client; // loopback stays allowed
    clients.push(control);
  });
  afterAll(async () => {
    await strict?.kill();
  });

  it('refuses a real device token, over HTTP and WebSocket, from a non-loopback client', async () => {
    const { token } = await pairDevice(strict.wsUrl, control, '127.0.8.1');
    const http = await httpRequest(`${strict.url}/v1/whoami`, { localAddress: '127.0.8.2', headers: { ...REMOTE_HOST, authorization: `Bearer ${token}` } });
    expect(http.status).toBe(401);
    const node = await openRpc(strict.wsUrl, { localAddress: '127.0.8.3', headers: { 'x-forwarded-for': '203.0.113.74' } });
    clients.push(node);
    expect((await node.call('connect', { role: 'node', auth: { token } })).error).toMatchObject({ code: -32001 });
    const withToken = await openRpc(strict.wsUrl, { localAddress: '127.0.8.4', headers: { 'x-forwarded-for': '203.0.113.75' } });
    clients.push(withToken);
    expect((await withToken.call('connect', { role: 'control', auth: { token: TOKEN } })).error).toMatchObject({ code: -32001 });
  });

  it('§5 connect without auth.token takes the Tailscale identity of the upgrade request (Tailscale Serve)', async () => {
    const headers = { 'tailscale-user-login': 'alice@example.com', 'x-forwarded-for': '100.64.0.8' };
    const { client, result } = await connectRpc(strict.wsUrl, { role: 'control' }, { localAddress: '127.0.8.5', headers });
    clients.push(client);
    expect(result).toMatchObject({ role: 'control', auth: { method: 'tailscale', identity: 'tailscale:alice@example.com' } });
  });
});
