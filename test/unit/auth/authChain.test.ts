import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { buildAuthChain, runAuthChain } from '../../../src/auth/authChain.js';
import { DeviceTokenCache } from '../../../src/auth/DeviceTokenCache.js';
import { secretDigest } from '../../../src/auth/SecretMatcher.js';
import type { AuthContext } from '../../../src/auth/types.js';
import type { GatewayConfig, TailscaleMode } from '../../../src/config/types.js';
import type { DeviceRecord } from '../../../src/store/types.js';

const DEVICE_TOKEN = 'dEvIcEtOkEn_0123456789-abcdefghijklmnopqrst'; // 43 chars base64url
const TOKEN = 'gateway-token';
const PASSWORD = 'gateway-password';
const device: DeviceRecord = {
  deviceId: 'dev1',
  displayName: 'phone',
  platform: 'ios',
  tokenHash: secretDigest(DEVICE_TOKEN),
  createdAt: 0,
  lastSeenAt: null,
};

function config(overrides: { tailscale?: TailscaleMode; allowLoopback?: boolean; trustedProxy?: boolean; token?: string; password?: string } = {}): GatewayConfig {
  return {
    auth: {
      token: overrides.token ?? TOKEN,
      password: overrides.password ?? PASSWORD,
      allowLoopback: overrides.allowLoopback ?? true,
      trustedProxy: { enabled: overrides.trustedProxy ?? true, header: 'X-Forwarded-User' },
      rateLimit: { maxFailures: 20, windowSeconds: 60, onStoreFailure: 'local' },
    },
    trustedProxies: ['10.0.0.1'],
    tailscale: { mode: overrides.tailscale ?? 'enabled' },
  } as unknown as GatewayConfig;
}

function storeWith(devices: DeviceRecord[]) {
  let lookups = 0;
  return {
    get lookups() {
      return lookups;
    },
    async findDeviceByTokenHash(hash: string) {
      lookups++;
      return devices.find((d) => d.tokenHash === hash) ?? null;
    },
  };
}

interface Request {
  peer?: string;
  host?: string;
  secret?: string;
  headers?: IncomingHttpHeaders;
  trusted?: boolean;
  secretOnly?: boolean;
}

function context({ peer = '203.0.113.1', host = 'gw.example', secret, headers = {}, trusted = false, secretOnly }: Request): AuthContext {
  return {
    transport: 'http',
    peerIp: peer,
    clientIp: peer,
    peerIsTrustedProxy: trusted,
    headers: { host, ...headers },
    secret,
    secretOnly,
  };
}

async function winner(cfg: GatewayConfig, request: Request): Promise<string | null> {
  const chain = buildAuthChain(cfg, new DeviceTokenCache(storeWith([device])));
  const result = await runAuthChain(chain, context(request));
  return result.kind === 'authenticated' ? result.identity.identity : null;
}

const local = { peer: '127.0.0.1', host: 'localhost:18789' };
const viaProxy = { peer: '10.0.0.1', trusted: true };
const tsHeader = { 'tailscale-user-login': 'alice@example.com' };
const proxyHeader = { 'x-forwarded-user': 'bob' };

describe('buildAuthChain', () => {
  it('lists the methods in the documented order', () => {
    const methods = (cfg: GatewayConfig) => buildAuthChain(cfg, new DeviceTokenCache(storeWith([]))).map((a) => a.method);
    expect(methods(config())).toEqual(['loopback', 'device', 'token', 'password', 'tailscale', 'trusted-proxy']);
    expect(methods(config({ tailscale: 'disabled', trustedProxy: false, password: '' }))).toEqual(['loopback', 'device', 'token']);
    expect(methods(config({ allowLoopback: false }))).toEqual(['device', 'token', 'password', 'tailscale', 'trusted-proxy']);
    expect(methods(config({ tailscale: 'require' }))).toEqual(['loopback', 'tailscale']);
  });
});

describe('which method wins', () => {
  it.each<[string, Request, string | null]>([
    ['loopback alone', local, 'local'],
    ['loopback beats every credential', { ...local, secret: TOKEN, headers: { ...tsHeader } }, 'local'],
    ['loopback beats a device token', { ...local, secret: DEVICE_TOKEN }, 'local'],
    ['device token', { secret: DEVICE_TOKEN }, 'device:dev1'],
    ['bearer token', { secret: TOKEN }, 'token'],
    ['password', { secret: PASSWORD }, 'password'],
    ['wrong secret', { secret: 'nope' }, null],
    ['token with a trailing space', { secret: `${TOKEN} ` }, null],
    ['nothing at all', {}, null],
    ['tailscale from a trusted proxy', { ...viaProxy, headers: tsHeader }, 'tailscale:alice@example.com'],
    ['tailscale from loopback with a forwarding header', { ...local, headers: { ...tsHeader, 'x-forwarded-for': '100.64.0.1' } }, 'tailscale:alice@example.com'],
    ['tailscale from an untrusted peer is ignored', { headers: tsHeader }, null],
    ['token beats tailscale', { ...viaProxy, secret: TOKEN, headers: tsHeader }, 'token'],
    ['tailscale beats trusted proxy', { ...viaProxy, headers: { ...tsHeader, ...proxyHeader } }, 'tailscale:alice@example.com'],
    ['trusted proxy', { ...viaProxy, headers: proxyHeader }, 'proxy:bob'],
    ['password beats trusted proxy', { ...viaProxy, secret: PASSWORD, headers: proxyHeader }, 'password'],
    ['proxy header from an untrusted peer', { headers: proxyHeader }, null],
    ['empty proxy header', { ...viaProxy, headers: { 'x-forwarded-user': '  ' } }, null],
    ['wrong secret + valid proxy header: proxy', { ...viaProxy, secret: 'nope', headers: proxyHeader }, 'proxy:bob'],
  ])('%s', async (_name, request, expected) => {
    expect(await winner(config(), request)).toBe(expected);
  });

  it.each<[string, Request, string | null]>([
    ['loopback still works', local, 'local'],
    ['tailscale identity', { ...viaProxy, headers: tsHeader }, 'tailscale:alice@example.com'],
    ['bearer token refused', { secret: TOKEN }, null],
    ['password refused', { secret: PASSWORD }, null],
    ['device token refused', { secret: DEVICE_TOKEN }, null],
    ['trusted proxy header refused', { ...viaProxy, headers: proxyHeader }, null],
  ])('tailscale require: %s', async (_name, request, expected) => {
    expect(await winner(config({ tailscale: 'require' }), request)).toBe(expected);
  });

  it.each<[string, Request, string | null]>([
    ['peer not loopback', { ...local, peer: '203.0.113.1' }, null],
    ['Host not loopback', { ...local, host: 'gw.example' }, null],
    ['forwarding header present', { ...local, headers: { 'x-real-ip': '127.0.0.1' } }, null],
    ['all three hold', local, 'local'],
  ])('loopback condition: %s', async (_name, request, expected) => {
    expect(await winner(config({ tailscale: 'disabled', trustedProxy: false }), request)).toBe(expected);
  });

  it('secretOnly (WS connect with auth.token) lets only device, token and password answer', async () => {
    expect(await winner(config(), { ...local, secretOnly: true })).toBeNull();
    expect(await winner(config(), { ...viaProxy, headers: { ...tsHeader, ...proxyHeader }, secretOnly: true })).toBeNull();
    expect(await winner(config(), { ...local, secret: TOKEN, secretOnly: true })).toBe('token');
    expect(await winner(config(), { secret: DEVICE_TOKEN, secretOnly: true })).toBe('device:dev1');
  });

  it('assigns the documented roles', async () => {
    const chain = buildAuthChain(config(), new DeviceTokenCache(storeWith([device])));
    const identity = async (request: Request) => {
      const result = await runAuthChain(chain, context(request));
      return result.kind === 'authenticated' ? result.identity : null;
    };
    expect(await identity({ secret: DEVICE_TOKEN })).toEqual({ method: 'device', identity: 'device:dev1', role: 'node', deviceId: 'dev1' });
    expect(await identity({ secret: TOKEN })).toEqual({ method: 'token', identity: 'token', role: 'control' });
    expect(await identity({ secret: PASSWORD })).toEqual({ method: 'password', identity: 'password', role: 'control' });
    expect(await identity(local)).toEqual({ method: 'loopback', identity: 'local', role: 'control' });
    expect((await identity({ ...viaProxy, headers: proxyHeader }))?.method).toBe('trusted-proxy');
    expect((await identity({ ...viaProxy, headers: tsHeader }))?.role).toBe('control');
  });
});

describe('store round trips on the hot path', () => {
  it('makes none for the configured token or password, or for secrets not shaped like a device token', async () => {
    const store = storeWith([device]);
    const chain = buildAuthChain(config(), new DeviceTokenCache(store));
    for (const secret of [TOKEN, PASSWORD, 'short', 'x'.repeat(44)]) await runAuthChain(chain, context({ secret }));
    expect(store.lookups).toBe(0);
  });

  it('a 43-character token equal to the configured token still authenticates as token without a lookup', async () => {
    const store = storeWith([]);
    const token43 = 'A'.repeat(43);
    const chain = buildAuthChain(config({ token: token43 }), new DeviceTokenCache(store));
    const result = await runAuthChain(chain, context({ secret: token43 }));
    expect(result.kind === 'authenticated' && result.identity.method).toBe('token');
    expect(store.lookups).toBe(0);
  });

  it('looks a device token up once, then serves it from the cache', async () => {
    const store = storeWith([device]);
    const chain = buildAuthChain(config(), new DeviceTokenCache(store));
    for (let i = 0; i < 5; i++) await runAuthChain(chain, context({ secret: DEVICE_TOKEN }));
    expect(store.lookups).toBe(1);
  });

  it('answers without a promise when no method needs the store (token, password, a cached device)', async () => {
    const store = storeWith([device]);
    const chain = buildAuthChain(config(), new DeviceTokenCache(store));
    expect(runAuthChain(chain, context({ secret: DEVICE_TOKEN }))).toBeInstanceOf(Promise); // the first lookup
    await runAuthChain(chain, context({ secret: DEVICE_TOKEN }));
    for (const secret of [TOKEN, PASSWORD, DEVICE_TOKEN, 'wrong']) {
      const result = runAuthChain(chain, context({ secret }));
      expect(result).not.toBeInstanceOf(Promise);
    }
    const cached = runAuthChain(chain, context({ secret: DEVICE_TOKEN }));
    expect(!(cached instanceof Promise) && cached.kind === 'authenticated' && cached.identity.identity).toBe(`device:${device.deviceId}`);
    expect(store.lookups).toBe(1);
  });

  it('reports a failed lookup as unavailable when no later method answers, and lets later methods answer', async () => {
    const failing = { findDeviceByTokenHash: async () => Promise.reject(new Error('redis down')) };
    const chain = buildAuthChain(config(), new DeviceTokenCache(failing));
    expect((await runAuthChain(chain, context({ secret: DEVICE_TOKEN }))).kind).toBe('unavailable');
    const viaHeader = await runAuthChain(chain, context({ ...viaProxy, secret: DEVICE_TOKEN, headers: proxyHeader }));
    expect(viaHeader.kind).toBe('authenticated');
  });
});
