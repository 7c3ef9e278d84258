import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { freePort } from './ports.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO_ROOT, 'dist/cli.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (`node dist/cli.js …`) to completion. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`openclaw ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Environment for child processes: the parent's minus any OPENCLAW_* / OTEL_* it may carry, plus overrides. */
export function cleanEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OPENCLAW_') && !key.startsWith('OTEL_')) env[key] = value;
  }
  return { ...env, ...overrides };
}

export interface GatewayProcess {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly child: ChildProcess;
  readonly stateDir: string;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  readonly stderr: () => string;
  /** All log lines parsed as JSON (non-JSON lines skipped). */
  logs(): Array<Record<string, unknown>>;
  waitForLog(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /**
   * Resolves once every line the gateway logged before the call is in `lines`: the gateway writes stdout in
   * batches (a line waits up to 10 ms, src/telemetry/logger.ts), so this waits until stdout has been quiet for
   * `quietMs` since the call (at most 5 s), or the process has exited.
   */
  settled(quietMs?: number): Promise<void>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface StartGatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to a temp YAML file under the top-level `gateway:` key and passed with --config. */
  config?: Record<string, unknown>;
  args?: string[];
  port?: number;
  /** Default 0 so tests do not wait on shutdown. */
  drainSeconds?: number;
  stateDir?: string;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `node dist/cli.js gateway` on a free port and resolves once it logs "gateway listening". */
export async function startGateway(options: StartGatewayOptions = {}): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  const workDir = mkdtempSync(join(tmpdir(), 'openclaw-gw-'));
  const stateDir = options.stateDir ?? join(workDir, 'state');
  const args = [CLI, 'gateway', '--port', String(port), ...(options.args ?? [])];
  if (options.config) {
    const file = join(workDir, 'gateway.yaml');
    writeFileSync(file, toYaml({ gateway: options.config }), { mode: 0o600 }); // secrets: not world-readable
    args.push('--config', file);
  }
  const env = cleanEnv({
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_METRICS_PORT: '0',
    OPENCLAW_SHUTDOWN_DRAIN_SECONDS: String(options.drainSeconds ?? 0),
    ...options.env,
  });
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  let lastOutputAt = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    lastOutputAt = Date.now();
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.length > 0));
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) =>
    child.on('exit', (code) => {
      running.delete(child);
      rmSync(workDir, { recursive: true, force: true });
      for (const wake of waiters) wake();
      resolveExit(code);
    }),
  );
  const parse = (): Array<Record<string, unknown>> =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const waitForLog = (predicate: (entry: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolveWait, reject) => {
      const check = () => {
        const found = parse().find(predicate);
        if (found) {
          cleanup();
          resolveWait(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`gateway exited (${child.exitCode ?? child.signalCode}) before the expected log line\nstderr: ${stderr}\nstdout: ${lines.slice(-20).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a log line\nstderr: ${stderr}\nstdout: ${lines.slice(-20).join('\n')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const settled = async (quietMs = 100): Promise<void> => {
    const calledAt = Date.now();
    const deadline = calledAt + 5_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const quietSince = Math.max(calledAt, lastOutputAt);
      const now = Date.now();
      if (now - quietSince >= quietMs || now >= deadline) return;
      await new Promise((resolveSleep) => setTimeout(resolveSleep, quietMs - (now - quietSince)));
    }
  };

  const gateway: GatewayProcess = {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/`,
    child,
    stateDir,
    lines,
    stderr: () => stderr,
    logs: parse,
    waitForLog,
    settled,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  await waitForLog((entry) => entry.msg === 'gateway listening', options.timeoutMs ?? 20_000);
  return gateway;
}
