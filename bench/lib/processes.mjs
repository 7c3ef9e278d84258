// Child processes of the bench: gateways, redis-server, the baseline and test servers. Each child's output
// goes to a file in the run's work dir (a pipe nobody reads would stall it), and every child is killed
// when the bench exits, however it exits.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(REPO_ROOT, 'dist/cli.js');

const children = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.on('exit', killAll);

function killAll() {
  for (const child of children) child.kill('SIGKILL');
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The parent's environment without any OPENCLAW_* / OTEL_* it may carry. */
export function cleanEnv(overrides = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OPENCLAW_') && !key.startsWith('OTEL_')) env[key] = value;
  }
  return { ...env, ...overrides };
}

/** Spawns a child with stdout+stderr in <workDir>/<name>.log. */
export function startChild(name, command, args, { env, workDir, nodeOptions = [] } = {}) {
  const logFile = join(workDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, [...nodeOptions, ...args], { env: env ?? cleanEnv(), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  const exited = new Promise((resolveExit) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolveExit(code ?? signal);
    }),
  );
  return {
    name,
    child,
    pid: child.pid,
    logFile,
    exited,
    log: () => readFileSync(logFile, 'utf8'),
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Polls url until it answers 200 (or the child exits / time runs out). */
export async function waitForHttp(url, proc, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before answering ${url}:\n${proc.log().slice(-3000)}`);
    }
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.log().slice(-3000)}`);
}

/**
 * `node dist/cli.js gateway` with the given OPENCLAW_* / OTEL_* environment; resolves once /healthz answers.
 * `launcher`: a command that runs node (e.g. valgrind and its options), with time to start under it.
 */
export async function startGateway({ name, env, workDir, nodeOptions = [], launcher = [], readyTimeoutMs, cli = CLI }) {
  const port = await freePort();
  const [command, ...args] = [...launcher, process.execPath, ...nodeOptions, cli, 'gateway', '--port', String(port)];
  const proc = startChild(name, command, args, {
    workDir,
    env: cleanEnv({
      OPENCLAW_STATE_DIR: join(workDir, `${name}-state`),
      OPENCLAW_METRICS_PORT: '0',
      OPENCLAW_SHUTDOWN_DRAIN_SECONDS: '0',
      ...env,
    }),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, proc, readyTimeoutMs);
  return { ...proc, port, url, wsUrl: `ws://127.0.0.1:${port}/` };
}

/**
 * A node script from bench/servers/ listening on a free port (passed as argv[2]). launcher: a command the node
 * process runs under (valgrind, …) and nodeOptions, as for startGateway.
 */
export async function startNodeServer({ name, script, workDir, args = [], env = {}, readyPath = '/', launcher = [], nodeOptions = [], readyTimeoutMs }) {
  const port = await freePort();
  const [command, ...commandArgs] = [...launcher, process.execPath, ...nodeOptions, join(REPO_ROOT, 'bench/servers', script), String(port), ...args];
  const proc = startChild(name, command, commandArgs, { workDir, env: cleanEnv(env) });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}${readyPath}`, proc, readyTimeoutMs);
  return { ...proc, port, url };
}

/** redis-server without persistence on a free loopback port; resolves once it answers PING. */
export async function startRedis({ workDir }) {
  const port = await freePort();
  const proc = startChild('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir], {
    workDir,
  });
  proc.child.on('error', () => {});
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) break;
    try {
      if ((await redisCommand(port, ['PING'])) === 'PONG') return { ...proc, port, url: `redis://127.0.0.1:${port}` };
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  throw new Error(`redis-server did not start (is it installed? apt-get install -y redis-server):\n${proc.log().slice(-2000)}`);
}

/** One command over a fresh connection (RESP); returns a simple/bulk string reply. Enough for PING and INFO. */
export function redisCommand(port, words) {
  return new Promise((resolveReply, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      buffer += chunk;
      if (buffer.startsWith('+') || buffer.startsWith('-')) {
        const end = buffer.indexOf('\r\n');
        if (end === -1) return;
        socket.end();
        if (buffer.startsWith('-')) reject(new Error(buffer.slice(1, end)));
        else resolveReply(buffer.slice(1, end));
      } else if (buffer.startsWith('$')) {
        const header = buffer.indexOf('\r\n');
        if (header === -1) return;
        const length = Number(buffer.slice(1, header));
        const body = Buffer.from(buffer.slice(header + 2), 'utf8');
        if (body.length < length) return;
        socket.end();
        resolveReply(body.subarray(0, length).toString('utf8'));
      }
    });
  });
}

/** Calls per command executed by redis, from INFO commandstats, INFO itself excluded. */
export async function redisCommandCounts(port) {
  const info = await redisCommand(port, ['INFO', 'commandstats']);
  const counts = {};
  for (const line of info.split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match && match[1] !== 'info') counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/** utime + stime of a process in µs, all threads (from /proc; clock ticks of 10 ms; the name may hold ') '). */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * Starts counting a process's CPU time (all threads); `perUnit(count)` is the µs it used since, per unit of work
 * (requests, handshakes), to 0.1 µs. Null without a pid or work.
 */
export function cpuMeter(pid) {
  const before = pid ? cpuMicros(pid) : 0;
  return { perUnit: (count) => (pid && count > 0 ? Math.round(((cpuMicros(pid) - before) / count) * 10) / 10 : null) };
}

/** Resident set size of a process in bytes (VmRSS from /proc/<pid>/status). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
