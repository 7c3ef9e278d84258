import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'openclaw-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

// The configuration snippets of AUTHENTICATION.md, byte for byte.
const SNIPPETS = {
  token: 'gateway:\n  auth:\n    token: "your-secret-token"\n',
  password: 'gateway:\n  auth:\n    password: "your-password"\n',
  tailscale: 'gateway:\n  tailscale:\n    mode: enabled  # or "require"\n',
  trustedProxy:
    'gateway:\n  auth:\n    trustedProxy:\n      enabled: true\n      header: "X-Forwarded-User"\n  trustedProxies:\n    - "10.0.0.1"\n    - "192.168.1.0/24"\n',
  bind: 'gateway:\n  bind: loopback  # only accessible from localhost\n',
};

describe('openclaw config', () => {
  it('prints the defaults of the contract', async () => {
    expect((await runCli(['config', 'get', 'gateway.port'])).stdout.trim()).toBe('18789');
    expect((await runCli(['config', 'get', 'gateway.bind'])).stdout.trim()).toBe('loopback');
    expect((await runCli(['config', 'get', 'gateway.auth.rateLimit.maxFailures'])).stdout.trim()).toBe('20');
    expect((await runCli(['config', 'get', 'gateway.redis.keyPrefix'])).stdout.trim()).toBe('openclaw:');
  });

  it('applies defaults < file < env < flags', async () => {
    const config = file('precedence.yaml', 'gateway:\n  port: 1111\n  bind: lan\n  auth:\n    token: t\n');
    const fromFile = await runCli(['config', 'get', 'gateway.port', '--config', config]);
    expect(fromFile.stdout.trim()).toBe('1111');
    const viaEnvFile = await runCli(['config', 'get', 'gateway.port'], { env: { OPENCLAW_CONFIG: config } });
    expect(viaEnvFile.stdout.trim()).toBe('1111');
    const env = { OPENCLAW_GATEWAY_PORT: '2222', OPENCLAW_GATEWAY_BIND: '127.0.0.2' };
    const fromEnv = await runCli(['config', 'get', 'gateway.port', '--config', config], { env });
    expect(fromEnv.stdout.trim()).toBe('2222');
    const fromFlag = await runCli(['config', 'get', 'gateway.port', '--config', config, '--port', '3333'], { env });
    expect(fromFlag.stdout.trim()).toBe('3333');
    const bind = await runCli(['config', 'get', 'gateway.bind', '--config', config, '--bind', '::1'], { env });
    expect(bind.stdout.trim()).toBe('::1');
    const envBind = await runCli(['config', 'get', 'gateway.bind', '--config', config], { env });
    expect(envBind.stdout.trim()).toBe('127.0.0.2');
  });

  it('parses comma-separated trusted proxies from the environment', async () => {
    const result = await runCli(['config', 'get', 'gateway.trustedProxies'], {
      env: { OPENCLAW_GATEWAY_TRUSTED_PROXIES: '10.0.0.1, 192.168.1.0/24,2001:db8::/32' },
    });
    expect(JSON.parse(result.stdout)).toEqual(['10.0.0.1', '192.168.1.0/24', '2001:db8::/32']);
  });

  it('masks secrets from every source', async () => {
    const config = file('secrets.yaml', 'gateway:\n  auth:\n    token: "file-secret-token"\n');
    const fromFile = await runCli(['config', 'get', 'gateway.auth.token', '--config', config]);
    expect(fromFile.stdout.trim()).toBe('********');
    const env = { OPENCLAW_GATEWAY_PASSWORD: 'env-secret-pw', OPENCLAW_UPSTREAM_API_KEY: 'sk-env-secret' };
    for (const key of ['gateway.auth.password', 'gateway.upstream.apiKey']) {
      const result = await runCli(['config', 'get', key], { env });
      expect(result.stdout.trim()).toBe('********');
    }
    const url = await runCli(['config', 'get', 'gateway.redis.url'], { env: { OPENCLAW_REDIS_URL: 'redis://:hunter2@127.0.0.1:6379/0' } });
    expect(url.stdout).not.toContain('hunter2');
    const whole = await runCli(['config', 'get', 'gateway', '--config', config], { env });
    expect(whole.code).toBe(0);
    expect(whole.stdout).not.toMatch(/file-secret-token|env-secret-pw|sk-env-secret/);
  });

  it('refuses unknown keys with exit 2', async () => {
    const result = await runCli(['config', 'get', 'gateway.nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('gateway.nope');
  });

  it('loads every configuration snippet of AUTHENTICATION.md as it is', async () => {
    for (const [name, text] of Object.entries(SNIPPETS)) {
      const result = await runCli(['config', 'validate', '--config', file(`${name}.yaml`, text)]);
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
    }
    const header = await runCli(['config', 'get', 'gateway.auth.trustedProxy.header', '--config', join(dir, 'trustedProxy.yaml')]);
    expect(header.stdout.trim()).toBe('X-Forwarded-User');
    const mode = await runCli(['config', 'get', 'gateway.tailscale.mode', '--config', join(dir, 'tailscale.yaml')]);
    expect(mode.stdout.trim()).toBe('enabled');
  });

  it('accepts JSON files too', async () => {
    const json = file('gateway.json', JSON.stringify({ gateway: { port: 4444 } }));
    expect((await runCli(['config', 'get', 'gateway.port', '--config', json])).stdout.trim()).toBe('4444');
  });

  it('validate names each bad key and exits 2', async () => {
    const bad = file(
      'bad.yaml',
      'gateway:\n  port: 70000\n  trustedProxies: ["10.0.0.0/33"]\n  tailscale:\n    mode: sometimes\n  upstream:\n    url: "not a url"\n',
    );
    const result = await runCli(['config', 'validate', '--config', bad]);
    expect(result.code).toBe(2);
    for (const key of ['gateway.port', 'gateway.trustedProxies', 'gateway.tailscale.mode', 'gateway.upstream.url']) {
      expect(result.stderr).toContain(key);
    }
  });

  it('validate reports a missing or unparsable file clearly', async () => {
    const missing = await runCli(['config', 'validate', '--config', join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing.yaml');
    const broken = await runCli(['config', 'validate', '--config', file('broken.yaml', 'gateway: [unclosed\n')]);
    expect(broken.code).toBe(2);
    const wrongTop = await runCli(['config', 'validate', '--config', file('top.yaml', 'port: 1\n')]);
    expect(wrongTop.code).toBe(2);
  });
});

describe('openclaw gateway refuses bad configuration at start-up', () => {
  const cases: Array<{ name: string; args?: string[]; env?: Record<string, string>; key: string }> = [
    { name: 'non-loopback bind without any auth', args: ['--bind', 'lan'], key: 'gateway.bind' },
    { name: 'IP literal bind without any auth', env: { OPENCLAW_GATEWAY_BIND: '0.0.0.0' }, key: 'gateway.bind' },
    { name: 'trusted proxy without trustedProxies', env: { OPENCLAW_GATEWAY_TRUSTED_PROXY_ENABLED: 'true' }, key: 'gateway.trustedProxies' },
    { name: 'invalid CIDR', env: { OPENCLAW_GATEWAY_TRUSTED_PROXIES: '10.0.0.0/40' }, key: 'gateway.trustedProxies' },
    { name: 'invalid port', env: { OPENCLAW_GATEWAY_PORT: '99999' }, key: 'gateway.port' },
    { name: 'invalid bind mode', args: ['--bind', 'everywhere'], key: 'gateway.bind' },
    { name: 'invalid tailscale mode', env: { OPENCLAW_GATEWAY_TAILSCALE_MODE: 'maybe' }, key: 'gateway.tailscale.mode' },
    { name: 'invalid store failure mode', env: { OPENCLAW_GATEWAY_AUTH_ON_STORE_FAILURE: 'open' }, key: 'gateway.auth.rateLimit.onStoreFailure' },
    { name: 'invalid Redis URL', env: { OPENCLAW_REDIS_URL: 'http://example' }, key: 'gateway.redis.url' },
    { name: 'invalid upstream URL', env: { OPENCLAW_UPSTREAM_URL: 'ftp://x' }, key: 'gateway.upstream.url' },
  ];
  for (const testCase of cases) {
    it(`exits 1 naming ${testCase.key}: ${testCase.name}`, async () => {
      const port = await freePort();
      const result = await runCli(['gateway', ...(testCase.args ?? [])], {
        env: { OPENCLAW_STATE_DIR: dir, OPENCLAW_GATEWAY_PORT: String(port), ...testCase.env },
      });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(testCase.key);
      expect(result.stdout).not.toContain('gateway listening');
    });
  }

  it('a loopback IP literal needs no auth (it is not exposed)', async () => {
    const result = await runCli(['config', 'validate', '--bind', '127.0.0.2']);
    expect(result.code).toBe(0);
  });

  it('never echoes a secret in a refusal', async () => {
    const result = await runCli(['gateway', '--bind', 'lan'], {
      env: { OPENCLAW_STATE_DIR: dir, OPENCLAW_GATEWAY_PORT: 'abc', OPENCLAW_GATEWAY_TOKEN: 'tok-should-not-leak' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).not.toContain('tok-should-not-leak');
  });
});

describe('openclaw token / version / help', () => {
  it('token generate prints 64 lowercase hex characters, fresh each time', async () => {
    const first = (await runCli(['token', 'generate'])).stdout.trim();
    const second = (await runCli(['token', 'generate'])).stdout.trim();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatch(/^[0-9a-f]{64}$/);
    expect(first).not.toBe(second);
  });

  it('--version prints the package version and --help works for every command', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const command of [[], ['gateway'], ['status'], ['config'], ['token']]) {
      const help = await runCli([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain('openclaw');
    }
  });

  it('an unknown command or flag exits 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['status', '--nope'])).code).toBe(2);
  });
});

describe('client commands with --config FILE', () => {
  it('find the gateway the file describes (port, token) when no --url or OPENCLAW_GATEWAY_URL is given', async () => {
    const port = await freePort();
    const secret = 'file-described-token-5f1c';
    const config = file('client.yaml', `gateway:\n  port: ${port}\n  auth:\n    token: "${secret}"\n    allowLoopback: false\n`);
    const gw = await startGateway({ port, args: ['--config', config] });
    try {
      const status = await runCli(['status', '--config', config]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(String(port));
      const viaEnv = await runCli(['devices', 'list', '--json'], { env: { OPENCLAW_CONFIG: config } });
      expect(viaEnv.code, viaEnv.stderr).toBe(0);
      const withoutFile = await runCli(['status', '--url', gw.url]);
      expect(withoutFile.code).toBe(1);
      expect(status.stdout + status.stderr + viaEnv.stdout).not.toContain(secret);
    } finally {
      await gw.kill();
    }
  });
});
