import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';

const TOKEN = 'tailscale-suite-token-77e1';
const PASSWORD = 'tailscale-suite-password-0b3';
const remoteHost = { host: 'gateway.tailnet.example' };

describe('Tailscale require mode', () => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    gateway = await startGateway({
      config: {
        auth: { token: TOKEN, password: PASSWORD, trustedProxy: { enabled: true, header: 'X-Forwarded-User' } },
        trustedProxies: ['127.0.0.1'],
        tailscale: { mode: 'require' },
      },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const whoami = (headers: Record<string, string>, localAddress?: string) =>
    httpRequest(`${gateway.url}/v1/whoami`, { headers, localAddress });

  it('accepts a Tailscale identity from Tailscale Serve (loopback peer)', async () => {
    const response = await whoami({ ...remoteHost, 'tailscale-user-login': 'alice@example.com' }, '127.0.0.2');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ method: 'tailscale', identity: 'tailscale:alice@example.com', role: 'control', clientIp: '127.0.0.2' });
  });

  it('accepts a Tailscale identity through the trusted proxy, client IP from X-Forwarded-For', async () => {
    const response = await whoami({ ...remoteHost, 'tailscale-user-login': 'carol@example.com', 'x-forwarded-for': '203.0.113.30' });
    expect(response.json()).toMatchObject({ identity: 'tailscale:carol@example.com', clientIp: '203.0.113.30' });
  });

  it('still lets a loopback request in', async () => {
    expect((await whoami({})).json()).toMatchObject({ method: 'loopback' });
  });

  it.each([
    ['the gateway token', { authorization: `Bearer ${TOKEN}` }],
    ['the password', { authorization: `Bearer ${PASSWORD}` }],
    ['a device-token-shaped secret', { authorization: `Bearer ${'A'.repeat(43)}` }],
    ['the trusted proxy header', { 'x-forwarded-user': 'bob', 'x-forwarded-for': '203.0.113.31' }],
    ['nothing', {}],
  ])('refuses %s without a Tailscale identity (401)', async (_name, headers) => {
    const response = await whoami({ ...remoteHost, ...headers }, '127.0.0.3');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="openclaw"');
    expect(response.json()).toEqual({ error: { message: 'A Tailscale identity is required.', type: 'unauthorized' } });
  });

  it('ignores an empty Tailscale-User-Login', async () => {
    expect((await whoami({ ...remoteHost, 'tailscale-user-login': '' }, '127.0.0.4')).status).toBe(401);
  });

  it('logs the refusals without the secrets', async () => {
    await gateway.settled();
    const output = gateway.lines.join('\n');
    expect(output).toContain('"msg":"auth failed"');
    expect(output).toContain('tailscale identity required');
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(PASSWORD);
  });
});
