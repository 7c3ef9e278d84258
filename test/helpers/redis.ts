// Redis fixtures for the test suites: standalone, Sentinel and Cluster setups made of real
// redis-server processes on free ports, each in its own temp dir with its log in <dir>/redis.log.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { GatewayConfig } from '../../src/config/types.js';
import { freePort } from './ports.js';

export const HOST = '127.0.0.1';

export type RedisSettings = GatewayConfig['redis'];

/** gateway.redis settings as the gateway's defaults have them (prefix `openclaw:`), with `overrides` on top. */
export function redisSettings(overrides: Partial<RedisSettings>): RedisSettings {
  return { url: '', sentinels: [], sentinelName: '', clusterNodes: [], password: '', keyPrefix: 'openclaw:', ...overrides };
}
export const SENTINEL_NAME = 'mymaster';
const NOT_FOUND = 'redis-server not found: apt-get install -y redis-server, or set REDIS_URL';

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisServer extends HostPort {
  url: string;
  /** Graceful stop (SIGTERM, SIGKILL after 3 s); removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the process to exit; the temp dir is kept for restart(). */
  kill(): Promise<void>;
  /** (Kill if running, then) start again on the same port and dir; resolves once PING answers. */
  restart(): Promise<void>;
  flushAll(): Promise<void>;
}

export interface StartRedisOptions {
  /** Fixed port; default: a free one. */
  port?: number;
  /** Extra redis-server arguments, appended after the defaults. */
  args?: string[];
  /** How long to wait for PING (default 10 s). */
  timeoutMs?: number;
}

export interface SentinelSetup {
  name: string;
  sentinels: HostPort[];
  sentinelsString: string;
  /** The processes started as primary and replica (roles swap after a failover). */
  primary: RedisServer;
  replica: RedisServer;
  sentinelServers: RedisServer[];
  /** SIGKILL the process started as primary. */
  killPrimary(): Promise<void>;
  /** Polls the sentinels until all agree on a new master address that answers ROLE as master. */
  waitForFailover(timeoutMs?: number): Promise<HostPort>;
  stop(): Promise<void>;
}

export interface ClusterSetup {
  nodes: HostPort[];
  nodesString: string;
  servers: RedisServer[];
  /** Waits until every node reports cluster_state:ok with all slots covered and all nodes known. */
  waitForOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Process-wide cleanup: an 'exit' hook for normal exits and a detached watchdog for the rest
// (vitest stops fork workers with SIGTERM, which skips 'exit'). The watchdog reads "pid N" /
// "dir PATH" lines on stdin and, when that pipe closes (we died), kills the pids and removes dirs.

const WATCHDOG = `
const fs = require('node:fs'); const pids = new Set(); const dirs = new Set(); let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d; let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const sp = line.indexOf(' '); const op = line.slice(0, sp); const v = line.slice(sp + 1);
    if (op === 'pid') pids.add(Number(v)); else if (op === 'unpid') pids.delete(Number(v));
    else if (op === 'dir') dirs.add(v); else if (op === 'undir') dirs.delete(v);
  }
});
process.stdin.on('close', () => {
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch {} }
  setTimeout(() => { for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} } process.exit(0); }, 300);
});`;

interface Registry {
  live: Set<ChildProcess>;
  dirs: Set<string>;
  watchdog?: ChildProcess;
}

function registry(): Registry {
  const key = Symbol.for('openclaw.test.redis.registry');
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  const existing = g[key];
  if (existing) return existing;
  const reg: Registry = { live: new Set(), dirs: new Set() };
  g[key] = reg;
  process.on('exit', () => {
    for (const child of reg.live) child.kill('SIGKILL');
    for (const dir of reg.dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  try {
    const wd = spawn(process.execPath, ['-e', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    wd.on('error', () => (reg.watchdog = undefined));
    wd.stdin?.on('error', () => {});
    (wd.stdin as unknown as net.Socket | null)?.unref();
    wd.unref();
    reg.watchdog = wd;
  } catch {
    // best effort: the 'exit' hook still runs on normal exits
  }
  return reg;
}

function tell(op: 'pid' | 'unpid' | 'dir' | 'undir', value: string | number | undefined): void {
  if (value !== undefined) registry().watchdog?.stdin?.write(`${op} ${value}\n`);
}

function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  registry().dirs.add(dir);
  tell('dir', dir);
  return dir;
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  registry().dirs.delete(dir);
  tell('undir', dir);
}

// ---------------------------------------------------------------------------------------------
// Small utilities

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, bin);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function requireBin(bin: 'redis-server' | 'redis-cli'): string {
  const found = which(bin);
  if (!found) throw new Error(bin === 'redis-server' ? NOT_FOUND : 'redis-cli not found: apt-get install -y redis-server');
  return found;
}

function logTail(file: string, lines = 25): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- last lines of ${file} ---\n${text}`;
  } catch {
    return `(no log at ${file})`;
  }
}

/** One command on a fresh connection; throws on connection errors. */
export async function redisCommand(
  target: HostPort | string,
  args: Array<string | number>,
  timeoutMs = 2000,
): Promise<unknown> {
  const opts = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  };
  const client = typeof target === 'string' ? new Redis(target, opts) : new Redis({ ...opts, host: target.host, port: target.port });
  client.on('error', () => {});
  try {
    await client.connect();
    const [cmd, ...rest] = args;
    return await client.call(String(cmd), ...rest);
  } finally {
    client.disconnect();
  }
}

/** One field of an INFO reply ("key:value" lines). */
export function infoField(info: unknown, key: string): string | undefined {
  const line = String(info).split(/\r?\n/).find((l) => l.startsWith(`${key}:`));
  return line?.slice(key.length + 1).trim();
}

async function pings(port: number): Promise<boolean> {
  try {
    return (await redisCommand({ host: HOST, port }, ['PING'], 500)) === 'PONG';
  } catch {
    return false;
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

function run(bin: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(bin)} ${args.join(' ')} failed (${signal ?? `exit ${code}`})\n${out}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// One local redis-server / sentinel process

function baseArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
}

class LocalRedis implements RedisServer {
  readonly host = HOST;
  readonly url: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitNote: string | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
    private readonly label: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.url = `redis://${HOST}:${port}`;
    this.logFile = path.join(dir, 'redis.log');
  }

  async start(): Promise<void> {
    const reg = registry();
    const fd = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(requireBin('redis-server'), this.args, { cwd: this.dir, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    this.child = child;
    this.exitNote = undefined;
    reg.live.add(child);
    tell('pid', child.pid);
    this.exited = new Promise<void>((resolve) => {
      const done = (note: string) => {
        reg.live.delete(child);
        tell('unpid', child.pid);
        if (this.child === child) {
          this.child = undefined;
          this.exitNote = note;
        }
        resolve();
      };
      child.once('exit', (code, signal) => done(signal ?? `exit code ${code}`));
      child.once('error', (err) => done(err.message));
    });

    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (await pings(this.port)) return;
      if (this.exitNote !== undefined) {
        throw new Error(`${this.label} on port ${this.port} exited during startup (${this.exitNote})\n${logTail(this.logFile)}`);
      }
      if (Date.now() >= deadline) {
        await this.kill();
        throw new Error(`${this.label} on port ${this.port} did not answer PING within ${this.timeoutMs} ms\n${logTail(this.logFile)}`);
      }
      await sleep(25);
    }
  }

  private async signal(sig: NodeJS.Signals, killAfterMs?: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(sig);
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    await this.exited;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM', 3000);
    removeDir(this.dir);
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.kill();
    // The port was ours a moment ago; retry briefly in case the kernel is slow to release it.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.start();
      } catch (err) {
        if (attempt >= 5 || !isAddrInUse(err)) throw err;
        await sleep(200);
      }
    }
  }

  async flushAll(): Promise<void> {
    await redisCommand(this, ['FLUSHALL']);
  }
}

function isAddrInUse(err: unknown): boolean {
  return err instanceof Error && /address already in use/i.test(err.message);
}

/** Start a process on a fresh free port, retrying with new ports if one was taken meanwhile. */
async function launch(
  label: string,
  dirPrefix: string,
  makeArgs: (port: number, dir: string) => Promise<string[]>,
  opts: { port?: number; timeoutMs?: number } = {},
): Promise<LocalRedis> {
  requireBin('redis-server');
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const dir = makeTempDir(dirPrefix);
    const server = new LocalRedis(port, dir, await makeArgs(port, dir), label, opts.timeoutMs);
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.stop();
      if (opts.port !== undefined || attempt >= 3 || !isAddrInUse(err)) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public fixtures

/** A standalone redis-server on 127.0.0.1 (no persistence), ready to answer PING. */
export function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  return launch('redis-server', 'redis-', async (port, dir) => [...baseArgs(port, dir), ...(opts.args ?? [])], opts);
}

function notControllable(what: string): () => Promise<never> {
  return () =>
    Promise.reject(
      new Error(`${what} is not controllable by the tests (kill/restart need a local redis-server: use startRedis())`),
    );
}

function externalRedis(url: string): RedisServer {
  const parsed = new URL(url);
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    // Not ours to stop: a no-op, so suites can call stop() in afterAll whatever the backend.
    stop: async () => {},
    kill: notControllable(`REDIS_URL=${url}`),
    restart: notControllable(`REDIS_URL=${url}`),
    flushAll: async () => {
      await redisCommand(url, ['FLUSHALL']);
    },
  };
}

async function containerRedis(): Promise<RedisServer> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer('redis:7.2-alpine').start();
  const url = container.getConnectionUrl();
  return {
    url,
    host: container.getHost(),
    port: container.getPort(),
    stop: async () => {
      await container.stop();
    },
    kill: notControllable('the Redis test container'),
    restart: notControllable('the Redis test container'),
    flushAll: async () => {
      await redisCommand(url, ['FLUSHALL']);
    },
  };
}

/**
 * Redis for suites that do not need to kill it: REDIS_URL if set (stop() is then a no-op, kill/restart
 * throw), else a local redis-server, else a testcontainers Redis if a container engine answers.
 */
export async function sharedRedis(): Promise<RedisServer> {
  const url = process.env.REDIS_URL;
  if (url) return externalRedis(url);
  if (which('redis-server')) return startRedis();
  try {
    return await containerRedis();
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`${NOT_FOUND} (no container engine answered either: ${why})`);
  }
}

/** One primary, one replica and three sentinels (quorum 2), all discovered and in sync. */
export async function startSentinel(): Promise<SentinelSetup> {
  const replArgs = ['--repl-diskless-sync-delay', '0'];
  const started: RedisServer[] = [];
  try {
    const primary = await startRedis({ args: replArgs });
    started.push(primary);
    const replica = await startRedis({ args: [...replArgs, '--replicaof', HOST, String(primary.port)] });
    started.push(replica);
    await waitFor('the replica to sync', 15_000, async () => {
      return infoField(await redisCommand(replica, ['INFO', 'replication']), 'master_link_status') === 'up';
    });

    const sentinelServers = await startAll(started, 3, () =>
        launch('redis-sentinel', 'redis-sentinel-', async (port, dir) => {
          const conf = path.join(dir, 'sentinel.conf');
          const lines = [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `sentinel monitor ${SENTINEL_NAME} ${HOST} ${primary.port} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
            `sentinel failover-timeout ${SENTINEL_NAME} 3000`,
            `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
          ];
          fs.writeFileSync(conf, `${lines.join('\n')}\n`);
          return [conf, '--sentinel'];
        }),
    );
    await waitFor('the sentinels to discover the replica and each other', 20_000, async () => {
      for (const s of sentinelServers) {
        const flat = (await redisCommand(s, ['SENTINEL', 'MASTER', SENTINEL_NAME])) as string[];
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), String(flat[i + 1]));
        if (m.get('flags') !== 'master' || m.get('num-slaves') !== '1' || m.get('num-other-sentinels') !== '2') return false;
      }
      return true;
    }, 100);

    const sentinels = sentinelServers.map(({ host, port }) => ({ host, port }));
    let current = `${HOST}:${primary.port}`;
    return {
      name: SENTINEL_NAME,
      sentinels,
      sentinelsString: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      primary,
      replica,
      sentinelServers,
      killPrimary: () => primary.kill(),
      async waitForFailover(timeoutMs = 30_000) {
        let found: HostPort | undefined;
        await waitFor(`a failover away from ${current}`, timeoutMs, async () => {
          const addrs = new Set<string>();
          for (const s of sentinelServers) {
            const reply = await redisCommand(s, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME]).catch(() => null);
            if (Array.isArray(reply)) addrs.add(`${reply[0]}:${reply[1]}`);
          }
          const [addr] = [...addrs];
          if (addrs.size !== 1 || !addr || addr === current) return false;
          const [host = HOST, port = '0'] = addr.split(':');
          const role = (await redisCommand({ host, port: Number(port) }, ['ROLE'])) as unknown[];
          if (role[0] !== 'master') return false;
          found = { host, port: Number(port) };
          current = addr;
          return true;
        }, 100);
        return found as HostPort;
      },
      stop: () => stopAll(started),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** Three cluster masters (no replicas) holding all 16384 slots, cluster_state:ok everywhere. */
export async function startCluster(): Promise<ClusterSetup> {
  const redisCli = requireBin('redis-cli');
  const servers: LocalRedis[] = [];
  try {
    await startAll(servers, 3, () =>
      launch('redis-server (cluster)', 'redis-cluster-', async (port, dir) => [
        ...baseArgs(port, dir),
        '--cluster-enabled', 'yes',
        '--cluster-config-file', path.join(dir, 'nodes.conf'),
        '--cluster-node-timeout', '2000',
        // explicit bus port: the default port+10000 may be above 65535 for ephemeral ports
        '--cluster-port', String(await freePort()),
      ]),
    );
    const nodes = servers.map(({ host, port }) => ({ host, port }));
    const addrs = nodes.map((n) => `${n.host}:${n.port}`);
    await run(redisCli, ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], 30_000);

    const waitForOk = (timeoutMs = 20_000) =>
      waitFor('cluster_state:ok on every node', timeoutMs, async () => {
        for (const s of servers) {
          const info = await redisCommand(s, ['CLUSTER', 'INFO']);
          if (infoField(info, 'cluster_state') !== 'ok') return false;
          if (infoField(info, 'cluster_slots_ok') !== '16384') return false;
          if (infoField(info, 'cluster_known_nodes') !== String(servers.length)) return false;
        }
        return true;
      }, 100);
    await waitForOk();
    return { nodes, nodesString: addrs.join(','), servers, waitForOk, stop: () => stopAll(servers) };
  } catch (err) {
    await stopAll(servers);
    throw err;
  }
}

/** Start n servers in parallel; every one that started is pushed to `started` (for cleanup) even if another failed. */
async function startAll<T extends RedisServer>(started: RedisServer[], n: number, start: () => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, start));
  const ok: T[] = [];
  for (const r of results) if (r.status === 'fulfilled') ok.push(r.value);
  started.push(...ok);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return ok;
}

async function stopAll(servers: RedisServer[]): Promise<void> {
  // Reverse order: sentinels before the replica before the primary, so nothing fails over mid-teardown.
  for (const s of [...servers].reverse()) await s.stop();
}
