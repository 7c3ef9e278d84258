// GATEWAY.md §1 and §2 from outside: every command's --help and --config, --version, the client commands'
// credentials, and every row of the configuration table (env name → key → default) as `config get` prints it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, startGateway, type GatewayProcess } from '../helpers/gateway.js';

const TOKEN = 'contract-cli-token-9b1d7e';
const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** GATEWAY.md §2, row by row: key, env, an env value, what `config get` prints for it, and the default. */
const CONFIG_TABLE: Array<{ key: string; env: string; value: string; printed: string; defaultPrinted: string; extraEnv?: Record<string, string> }> = [
  { key: 'gateway.port', env: 'OPENCLAW_GATEWAY_PORT', value: '19001', printed: '19001', defaultPrinted: '18789' },
  { key: 'gateway.bind', env: 'OPENCLAW_GATEWAY_BIND', value: '127.0.0.9', printed: '127.0.0.9', defaultPrinted: 'loopback' },
  { key: 'gateway.auth.token', env: 'OPENCLAW_GATEWAY_TOKEN', value: 'row-token-secret', printed: '********', defaultPrinted: '' },
  { key: 'gateway.auth.password', env: 'OPENCLAW_GATEWAY_PASSWORD', value: 'row-password-secret', printed: '********', defaultPrinted: '' },
  { key: 'gateway.auth.allowLoopback', env: 'OPENCLAW_GATEWAY_ALLOW_LOOPBACK', value: 'false', printed: 'false', defaultPrinted: 'true' },
  {
    key: 'gateway.auth.trustedProxy.enabled',
    env: 'OPENCLAW_GATEWAY_TRUSTED_PROXY_ENABLED',
    value: 'true',
    printed: 'true',
    defaultPrinted: 'false',
    extraEnv: { OPENCLAW_GATEWAY_TRUSTED_PROXIES: '10.0.0.1' },
  },
  { key: 'gateway.auth.trustedProxy.header', env: 'OPENCLAW_GATEWAY_TRUSTED_PROXY_HEADER', value: 'X-Auth-User', printed: 'X-Auth-User', defaultPrinted: 'X-Forwarded-User' },
  { key: 'gateway.auth.rateLimit.maxFailures', env: 'OPENCLAW_GATEWAY_AUTH_MAX_FAILURES', value: '7', printed: '7', defaultPrinted: '20' },
  { key: 'gateway.auth.rateLimit.windowSeconds', env: 'OPENCLAW_GATEWAY_AUTH_WINDOW_SECONDS', value: '9', printed: '9', defaultPrinted: '60' },
  { key: 'gateway.auth.rateLimit.onStoreFailure', env: 'OPENCLAW_GATEWAY_AUTH_ON_STORE_FAILURE', value: 'deny', printed: 'deny', defaultPrinted: 'local' },
  { key: 'gateway.trustedProxies', env: 'OPENCLAW_GATEWAY_TRUSTED_PROXIES', value: '10.0.0.1,192.168.1.0/24,2001:db8::/32', printed: '["10.0.0.1","192.168.1.0/24","2001:db8::/32"]', defaultPrinted: '[]' },
  { key: 'gateway.tailscale.mode', env: 'OPENCLAW_GATEWAY_TAILSCALE_MODE', value: 'require', printed: 'require', defaultPrinted: 'disabled' },
  { key: 'gateway.redis.url', env: 'OPENCLAW_REDIS_URL', value: 'redis://127.0.0.1:6390', printed: 'redis://127.0.0.1:6390', defaultPrinted: '' },
  {
    key: 'gateway.redis.sentinels',
    env: 'OPENCLAW_REDIS_SENTINELS',
    value: '127.0.0.1:26379,127.0.0.1:26380',
    printed: '["127.0.0.1:26379","127.0.0.1:26380"]',
    defaultPrinted: '[]',
    extraEnv: { OPENCLAW_REDIS_SENTINEL_NAME: 'mymaster' },
  },
  {
    key: 'gateway.redis.sentinelName',
    env: 'OPENCLAW_REDIS_SENTINEL_NAME',
    value: 'mymaster',
    printed: 'mymaster',
    defaultPrinted: '',
    extraEnv: { OPENCLAW_REDIS_SENTINELS: '127.0.0.1:26379' },
  },
  { key: 'gateway.redis.clusterNodes', env: 'OPENCLAW_REDIS_CLUSTER_NODES', value: '127.0.0.1:7000,127.0.0.1:7001', printed: '["127.0.0.1:7000","127.0.0.1:7001"]', defaultPrinted: '[]' },
  { key: 'gateway.redis.keyPrefix', env: 'OPENCLAW_REDIS_KEY_PREFIX', value: 'team-a:', printed: 'team-a:', defaultPrinted: 'openclaw:' },
  { key: 'gateway.stateDir', env: 'OPENCLAW_STATE_DIR', value: '/tmp/openclaw-contract-state', printed: '/tmp/openclaw-contract-state', defaultPrinted: '~/.openclaw' },
  { key: 'gateway.pairing.ttlSeconds', env: 'OPENCLAW_PAIRING_TTL_SECONDS', value: '42', printed: '42', defaultPrinted: '300' },
  { key: 'gateway.upstream.url', env: 'OPENCLAW_UPSTREAM_URL', value: 'http://vllm:8000/v1', printed: 'http://vllm:8000/v1', defaultPrinted: '' },
  { key: 'gateway.upstream.apiKey', env: 'OPENCLAW_UPSTREAM_API_KEY', value: 'sk-row-secret', printed: '********', defaultPrinted: '' },
  { key: 'gateway.upstream.model', env: 'OPENCLAW_UPSTREAM_MODEL', value: 'llama-3-8b', printed: 'llama-3-8b', defaultPrinted: '' },
  { key: 'gateway.metrics.port', env: 'OPENCLAW_METRICS_PORT', value: '0', printed: '0', defaultPrinted: '9464' },
  { key: 'gateway.log.level', env: 'OPENCLAW_LOG_LEVEL', value: 'debug', printed: 'debug', defaultPrinted: 'info' },
  { key: 'gateway.shutdown.drainSeconds', env: 'OPENCLAW_SHUTDOWN_DRAIN_SECONDS', value: '1', printed: '1', defaultPrinted: '5' },
];

const dir = mkdtempSync(join(tmpdir(), 'openclaw-contract-cli-'));
const configFile = join(dir, 'gateway.yaml');
writeFileSync(configFile, 'gateway:\n  log:\n    level: info\n', { mode: 0o600 });

/** Runs CLI invocations a few at a time: two cores are shared by everyone. */
async function runAll<T>(items: T[], run: (item: T) => ReturnType<typeof runCli>): Promise<Awaited<ReturnType<typeof runCli>>[]> {
  const results: Awaited<ReturnType<typeof runCli>>[] = [];
  for (let start = 0; start < items.length; start += 4) results.push(...(await Promise.all(items.slice(start, start + 4).map(run))));
  return results;
}

let gateway: GatewayProcess;
beforeAll(async () => {
  // No loopback bypass: a client command only gets in with OPENCLAW_GATEWAY_TOKEN.
  gateway = await startGateway({ config: { auth: { token: TOKEN, allowLoopback: false }, trustedProxies: ['127.0.0.1'] } });
});
afterAll(async () => {
  await gateway?.kill();
});

describe('§2 configuration table through `openclaw config get`', () => {
  it('prints the documented default of every key', async () => {
    const results = await runAll(CONFIG_TABLE, (row) => runCli(['config', 'get', row.key]));
    CONFIG_TABLE.forEach((row, index) => {
      const result = results[index]!;
      expect(result.code, `${row.key}: ${result.stderr}`).toBe(0);
      expect(result.stdout.trim(), row.key).toBe(row.defaultPrinted);
    });
  });

  it('reads every key from its documented environment variable', async () => {
    const results = await runAll(CONFIG_TABLE, (row) => runCli(['config', 'get', row.key], { env: { [row.env]: row.value, ...row.extraEnv } }));
    CONFIG_TABLE.forEach((row, index) => {
      const result = results[index]!;
      expect(result.code, `${row.env}: ${result.stderr}`).toBe(0);
      expect(result.stdout.trim(), `${row.env} → ${row.key}`).toBe(row.printed);
      expect(result.stdout, `${row.key} must not print the secret`).not.toContain('secret');
    });
  });
});

describe('§1 every command accepts --help and --config FILE; --version', () => {
  const COMMANDS = [
    ['gateway'],
    ['status'],
    ['config'],
    ['config', 'get'],
    ['config', 'validate'],
    ['logs'],
    ['devices'],
    ['devices', 'pending'],
    ['devices', 'approve'],
    ['token'],
    ['token', 'generate'],
  ];

  it('--help prints a usage naming the command and exits 0, for every command and subcommand', async () => {
    const results = await runAll(COMMANDS, (command) => runCli([...command, '--help']));
    COMMANDS.forEach((command, index) => {
      const result = results[index]!;
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout, command.join(' ')).toContain(`openclaw ${command[0]}`);
    });
    const top = await runCli(['--help']);
    for (const name of ['gateway', 'status', 'config', 'logs', 'devices', 'token']) expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('--version prints exactly the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${packageJson.version}\n`);
  });

  it('--config FILE is accepted by every command (the gateway itself runs with one)', async () => {
    const env = { OPENCLAW_GATEWAY_URL: gateway.url, OPENCLAW_GATEWAY_TOKEN: TOKEN };
    const commands = [['status'], ['logs', '-n', '1'], ['devices', 'list'], ['devices', 'pending'], ['token', 'generate'], ['config', 'validate'], ['config', 'get', 'gateway.log.level']];
    const results = await runAll(commands, (command) => runCli([...command, '--config', configFile], { env }));
    commands.forEach((command, index) => {
      expect(results[index]!.code, `${command.join(' ')}: ${results[index]!.stderr}`).toBe(0);
    });
  });

  it('package.json: the `openclaw` bin is dist/cli.js and `npm start` runs `openclaw gateway`', () => {
    expect(packageJson.bin.openclaw).toBe('dist/cli.js');
    expect(packageJson.scripts.start).toBe('node dist/cli.js gateway');
  });
});

describe('§1 client commands authenticate with OPENCLAW_GATEWAY_TOKEN', () => {
  const CLIENT_COMMANDS = [['status'], ['logs', '-n', '1'], ['devices', 'list']];

  it('get in with the token, and are refused (exit 1) without it when loopback is off', async () => {
    const withToken = await Promise.all(
      CLIENT_COMMANDS.map((command) => runCli([...command, '--url', gateway.url], { env: { OPENCLAW_GATEWAY_TOKEN: TOKEN } })),
    );
    const without = await Promise.all(CLIENT_COMMANDS.map((command) => runCli([...command, '--url', gateway.url])));
    CLIENT_COMMANDS.forEach((command, index) => {
      expect(withToken[index]!.code, `${command.join(' ')}: ${withToken[index]!.stderr}`).toBe(0);
      expect(without[index]!.code, command.join(' ')).toBe(1);
      expect(without[index]!.stderr, command.join(' ')).toContain('OPENCLAW_GATEWAY_TOKEN');
    });
    const status = withToken[0]!.stdout;
    for (const field of ['version', 'replica id', 'bind', 'port', 'auth methods', 'store']) expect(status).toContain(field);
    // the CLI's own WebSocket sessions show how they authenticated
    await gateway.settled();
    const connected = gateway.logs().filter((entry) => entry.msg === 'ws session connected');
    expect(connected.length).toBeGreaterThanOrEqual(2);
    expect(connected.every((entry) => entry.method === 'token')).toBe(true);
    expect(gateway.lines.join('\n')).not.toContain(TOKEN);
  });
});

describe('§1 openclaw logs', () => {
  it('prints at least the last 1,000 log lines, one JSON object a line', async () => {
    // 1,100 failed authentications from distinct clients behind the trusted proxy: 1,100 "auth failed" lines.
    const clients = Array.from({ length: 1_100 }, (_, index) => `2001:db8:0:${index.toString(16)}::1`);
    for (let start = 0; start < clients.length; start += 50) {
      await Promise.all(
        clients.slice(start, start + 50).map(async (clientIp) => {
          const response = await fetch(`${gateway.url}/v1/models`, { headers: { 'x-forwarded-for': clientIp, authorization: 'Bearer wrong' } });
          await response.arrayBuffer();
          expect(response.status).toBe(401);
        }),
      );
    }
    const result = await runCli(['logs', '--url', gateway.url], { env: { OPENCLAW_GATEWAY_TOKEN: TOKEN } });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1_000);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failedClients = new Set(entries.filter((entry) => entry.msg === 'auth failed').map((entry) => entry.clientIp));
    // the newest 1,000 failures are all there
    for (const clientIp of clients.slice(-1_000)) expect(failedClients.has(clientIp), clientIp).toBe(true);
  });

  it('the ping interval of §5 (30 s) is the default of gateway.ws.pingIntervalSeconds', async () => {
    expect((await runCli(['config', 'get', 'gateway.ws.pingIntervalSeconds'])).stdout).toBe('30\n');
  });
});

describe('§1 token generate, like `openssl rand -hex 32`', () => {
  it('has the shape of openssl rand -hex 32 output and serves as the gateway token', async () => {
    const generated = await runCli(['token', 'generate']);
    const openssl = execFileSync('openssl', ['rand', '-hex', '32'], { encoding: 'utf8' });
    const shape = /^[0-9a-f]{64}\n$/;
    expect(openssl).toMatch(shape);
    expect(generated.stdout).toMatch(shape);
    const token = generated.stdout.trim();
    const gw = await startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_GATEWAY_ALLOW_LOOPBACK: 'false' } });
    try {
      const status = await runCli(['status', '--url', gw.url, '--json'], { env: { OPENCLAW_GATEWAY_TOKEN: token } });
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ authMethods: expect.arrayContaining(['token']) });
    } finally {
      await gw.kill();
    }
  });
});
