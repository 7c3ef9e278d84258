import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest, type HttpResponse } from '../helpers/httpRequest.js';

const TOKEN = 'ratelimit-suite-token-3c9e';
const RATE_LIMITED_BODY = '{"error":{"message":"Too many failed authentication attempts. Please try again later.","type":"rate_limited"}}';

function expectRateLimited(response: HttpResponse, windowSeconds: number): number {
  expect(response.status).toBe(429);
  expect(response.body).toBe(RATE_LIMITED_BODY);
  expect(response.headers['content-type']).toBe('application/json');
  const retryAfter = response.headers['retry-after'] ?? '';
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
  return Number(retryAfter);
}

describe('failed-auth rate limit (embedded store, default 20 per 60 s)', () => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    gateway = await startGateway({ config: { auth: { token: TOKEN }, trustedProxies: ['127.0.0.1'] } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** From behind the trusted proxy (peer 127.0.0.1), so the client IP is the X-Forwarded-For address. */
  const asClient = (clientIp: string, secret?: string, path = '/v1/whoami') =>
    httpRequest(`${gateway.url}${path}`, {
      headers: { 'x-forwarded-for': clientIp, ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }) },
    });

  it('answers 401 to failures 1-20, then 429 to everything from that IP, correct token included', async () => {
    const client = '203.0.113.40';
    for (let failure = 1; failure <= 20; failure++) {
      const response = await asClient(client, `wrong-${failure}`);
      expect(response.status, `failure ${failure}`).toBe(401);
    }
    expectRateLimited(await asClient(client, 'wrong-21'), 60);
    const withToken = await asClient(client, TOKEN);
    const retryAfter = expectRateLimited(withToken, 60);
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expectRateLimited(await asClient(client, undefined, '/v1/models'), 60);
    expectRateLimited(await asClient(client, TOKEN, '/v1/models?token=x'), 60);

    expect((await asClient('203.0.113.41', TOKEN)).json()).toMatchObject({ method: 'token', clientIp: '203.0.113.41' });
    expect((await asClient('203.0.113.41')).status).toBe(401);

    await gateway.settled();
    const failures = gateway.logs().filter((e) => e.msg === 'auth failed' && e.clientIp === client);
    expect(failures).toHaveLength(20);
    expect(failures[0]).toMatchObject({ reason: 'invalid credentials', path: '/v1/whoami', transport: 'http' });
    expect(gateway.logs().some((e) => e.msg === 'auth rate limited' && e.clientIp === client)).toBe(true);
    expect(gateway.lines.join('\n')).not.toContain(TOKEN);
  });

  it('keys IPv6 clients by /64: 2001:db8::1 and 2001:db8::2 share one counter', async () => {
    for (let failure = 1; failure <= 10; failure++) expect((await asClient('2001:db8::1')).status).toBe(401);
    for (let failure = 11; failure <= 20; failure++) expect((await asClient('2001:db8::2')).status).toBe(401);
    expectRateLimited(await asClient('2001:db8::3', TOKEN), 60);
    expectRateLimited(await asClient('2001:db8:0:0:ffff::1', TOKEN), 60);
    expect((await asClient('2001:db8:0:1::1', TOKEN)).status).toBe(200); // the next /64
  });

  it('treats the IPv4-mapped form of a blocked IPv4 address as the same client', async () => {
    const client = '203.0.113.42';
    for (let failure = 1; failure <= 20; failure++) await asClient(client);
    expectRateLimited(await asClient(`::ffff:${client}`, TOKEN), 60);
  });
});

describe('the block lasts until the window ends', () => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    gateway = await startGateway({
      config: { auth: { token: TOKEN, allowLoopback: false, rateLimit: { maxFailures: 2, windowSeconds: 3 } } },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('Retry-After is within the window, and after it the correct token works again', async () => {
    const from = '127.0.0.7';
    const request = (secret?: string) =>
      httpRequest(`${gateway.url}/v1/whoami`, { localAddress: from, headers: secret ? { authorization: `Bearer ${secret}` } : {} });
    expect((await request()).status).toBe(401);
    expect((await request('nope')).status).toBe(401);
    const retryAfter = expectRateLimited(await request(TOKEN), 3);
    await sleep(retryAfter * 1000 + 100);
    const after = await request(TOKEN);
    expect(after.status).toBe(200);
    expect(after.json()).toMatchObject({ method: 'token', clientIp: from });
  });
});
