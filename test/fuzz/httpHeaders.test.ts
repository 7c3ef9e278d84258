// The header parsers behind a real gateway: random X-Forwarded-For from a trusted proxy gives the
// model's client IP in /v1/whoami; random credentials get 200 or 401 (never 5xx) and never reach a log
// line; bodies nested thousands deep are refused as invalid, not answered with an internal error.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeIp } from '../../src/net/ip.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { canonical, ipv4Address, ipv6Address, textForms } from './ipModel.js';

const TOKEN = 'fuzz-token-4b0c2e5d7a9f';
let gw: GatewayProcess;
let upstream: TestUpstream;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    config: {
      auth: { token: TOKEN, rateLimit: { maxFailures: 1_000_000 } },
      trustedProxies: ['127.0.0.1', '10.0.0.0/8'],
      upstream: { url: upstream.url },
    },
  });
});
afterAll(async () => {
  await gw?.kill();
  await upstream?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('X-Forwarded-For through a trusted proxy', () => {
  it('the client IP the gateway reports is the model walk of the header', async () => {
    const client = fc.oneof(ipv4Address, ipv6Address).chain((address) => fc.tuple(fc.constant(canonical(address)), fc.constantFrom(...textForms(address))));
    const proxyHop = fc.integer({ min: 0, max: 0xffffff }).map((n) => `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 12 }).filter((s) => !s.includes(',')), { maxLength: 3 }), client, fc.array(proxyHop, { maxLength: 3 }), async (spoofed, [clientIp, written], proxies) => {
        const header = [...spoofed, written, ...proxies].join(', ');
        const expected = normalizeIp(clientIp)!;
        const response = await httpRequest(`${gw.url}/v1/whoami`, { headers: { ...auth, 'x-forwarded-for': header } });
        expect(response.status).toBe(200);
        expect(response.json().clientIp).toBe(expected);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});

describe('credentials', () => {
  const headerText = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 60 });

  it('any presented secret but the token is 401 unauthorized (never 5xx), and no presented secret is ever logged', async () => {
    const presented: string[] = [];
    await fc.assert(
      fc.asyncProperty(headerText.filter((s) => s !== TOKEN), fc.constantFrom('authorization', 'x-openclaw-token', 'both'), async (secret, where) => {
        const marked = `zz${secret}`; // long enough to be found in the logs without false hits
        presented.push(marked);
        const headers: Record<string, string> = { host: 'gateway.example' }; // not a loopback Host: no bypass
        if (where !== 'x-openclaw-token') headers.authorization = `Bearer ${marked}`;
        if (where !== 'authorization') headers['x-openclaw-token'] = marked;
        const response = await httpRequest(`${gw.url}/v1/models`, { headers });
        expect(response.status).toBe(401);
        expect(response.json()).toMatchObject({ error: { type: 'unauthorized' } });
        expect(response.body).not.toContain(marked);
      }),
      { numRuns: 200 },
    );
    const exact = await httpRequest(`${gw.url}/v1/models`, { headers: { host: 'gateway.example', 'x-openclaw-token': TOKEN } });
    expect(exact.status).toBe(200);
    await gw.waitForLog((entry) => entry.msg === 'auth failed');
    await gw.settled();
    const logs = gw.lines.join('\n') + gw.stderr();
    for (const secret of presented) expect(logs.includes(secret), `logged: ${secret}`).toBe(false);
    expect(logs).not.toContain(TOKEN);
  }, 60_000);
});

describe('deeply nested bodies', () => {
  it.each([
    ['/v1/chat/completions', (deep: string) => `{"model":"openclaw","messages":[{"role":"user","content":${deep}}]}`],
    ['/hooks/deep', (deep: string) => deep],
  ])('%s answers 400 invalid_request, not an internal error', async (path, body) => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const response = await httpRequest(`${gw.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: body(deep) });
    expect(response.status, response.body).toBe(400);
    expect(response.json()).toMatchObject({ error: { type: 'invalid_request' } });
    expect((await httpRequest(`${gw.url}/healthz`)).status).toBe(200);
    expect(gw.stderr()).toBe('');
  });
});
