import { execFileSync } from 'node:child_process';
import { constants, createReadStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  STDOUT_BATCH_MAX_LENGTH,
  STDOUT_BATCH_WINDOW_MS,
  batchedWrites,
  createLogger,
  reportDroppedLines,
  stdoutDestination,
  NESTED_SECRET_KEYS,
} from '../../../src/telemetry/logger.js';

const SECRET = 'S3cr3t-value-never-logged';

function logged(write: (logger: ReturnType<typeof createLogger>['logger']) => void): { line: string; json: Record<string, unknown> } {
  const { logger, ring } = createLogger({ level: 'trace', replicaId: 'r1', stdout: false });
  write(logger);
  const [line] = ring.tail(1);
  return { line: line!, json: JSON.parse(line!) as Record<string, unknown> };
}

describe('logger redaction', () => {
  it.each(['token', 'password', 'secret', 'claimSecret', 'authorization'])('blanks a top-level %s', (key) => {
    const { line, json } = logged((logger) => logger.info({ [key]: SECRET, sessionId: 'abc' }, 'line'));
    expect(line).not.toContain(SECRET);
    expect(json[key]).toBe('[redacted]');
    expect(json.sessionId).toBe('abc');
  });

  it.each(NESTED_SECRET_KEYS.map((key) => [key]))('blanks %s one level down under any key, and leaves the caller its object', (key) => {
    const client = { name: 'app', [key]: SECRET };
    const { line, json } = logged((logger) => logger.info({ client, role: 'control' }, 'ws session connected'));
    expect(line).not.toContain(SECRET);
    expect(json.client).toEqual({ name: 'app', [key]: '[redacted]' });
    expect(json.role).toBe('control');
    expect(client[key]).toBe(SECRET);
  });

  it('blanks the header paths: headers.authorization, headers["x-openclaw-token"], req.headers.{authorization,x-openclaw-token,cookie}', () => {
    const headers = { authorization: `Bearer ${SECRET}`, 'x-openclaw-token': SECRET, accept: 'application/json' };
    const { line, json } = logged((logger) =>
      logger.info({ headers, req: { method: 'GET', headers: { ...headers, cookie: `sid=${SECRET}` } } }, 'request'),
    );
    expect(line).not.toContain(SECRET);
    expect(json.headers).toEqual({ authorization: '[redacted]', 'x-openclaw-token': '[redacted]', accept: 'application/json' });
    expect((json.req as { headers: unknown }).headers).toEqual({
      authorization: '[redacted]',
      'x-openclaw-token': '[redacted]',
      accept: 'application/json',
      cookie: '[redacted]',
    });
    expect(headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('keeps an error an error (type, message, stack) while blanking a secret on it', () => {
    const error = Object.assign(new TypeError('lookup failed'), { password: SECRET, code: 'E_LOOKUP' });
    const { line, json } = logged((logger) => logger.warn({ err: error }, 'failed'));
    expect(line).not.toContain(SECRET);
    expect(json.err).toMatchObject({ type: 'TypeError', message: 'lookup failed', code: 'E_LOOKUP', password: '[redacted]' });
    expect(String((json.err as { stack: string }).stack)).toContain('lookup failed');
    expect(error.password).toBe(SECRET);
  });

  it('redacts in child loggers too, and leaves lines without secrets as they are', () => {
    const { line, json } = logged((logger) => logger.child({ component: 'ws' }).info({ client: { token: SECRET, version: '1.2' }, n: 1 }, 'child'));
    expect(line).not.toContain(SECRET);
    expect(json).toMatchObject({ component: 'ws', client: { token: '[redacted]', version: '1.2' }, n: 1, msg: 'child' });
    const plain = logged((logger) => logger.info({ client: { name: 'app', version: '1.2' }, list: [1, 2], nothing: null }, 'plain'));
    expect(plain.json).toMatchObject({ client: { name: 'app', version: '1.2' }, list: [1, 2], nothing: null });
  });
});

/** A destination that records what reaches it: the writes, and the flushes asked of it. */
function recordingDestination() {
  const writes: string[] = [];
  const flushes: string[] = [];
  return {
    writes,
    flushes,
    write: (chunk: string) => writes.push(chunk),
    flush: (callback?: (error?: Error) => void) => {
      flushes.push('flush');
      callback?.();
    },
    flushSync: () => void flushes.push('flushSync'),
  };
}

describe('stdout batching', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the lines of a window together, in order, STDOUT_BATCH_WINDOW_MS after the first', () => {
    vi.useFakeTimers();
    const destination = recordingDestination();
    const stream = batchedWrites(destination);
    for (let i = 0; i < 100; i++) stream.write(`line ${i}\n`);
    vi.advanceTimersByTime(STDOUT_BATCH_WINDOW_MS - 1);
    stream.write('late\n');
    expect(destination.writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(destination.writes).toEqual([`${Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join('')}late\n`]);
    // the next line opens a new window
    stream.write('next\n');
    vi.advanceTimersByTime(STDOUT_BATCH_WINDOW_MS);
    expect(destination.writes).toEqual([expect.any(String), 'next\n']);
  });

  it('writes a batch that reaches STDOUT_BATCH_MAX_LENGTH at once', () => {
    vi.useFakeTimers();
    const destination = recordingDestination();
    const stream = batchedWrites(destination);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < STDOUT_BATCH_MAX_LENGTH / line.length; i++) stream.write(line);
    expect(destination.writes).toHaveLength(1);
    expect(destination.writes[0]).toHaveLength(STDOUT_BATCH_MAX_LENGTH);
    vi.advanceTimersByTime(STDOUT_BATCH_WINDOW_MS);
    expect(destination.writes).toHaveLength(1);
  });

  it('releases the open batch before a flush or a synchronous flush (pino calls flushSync at exit)', () => {
    vi.useFakeTimers();
    const destination = recordingDestination();
    const stream = batchedWrites(destination);
    stream.write('one\n');
    destination.flush();
    expect(destination.writes).toEqual(['one\n']);
    expect(destination.flushes).toEqual(['flush']);
    stream.write('two\n');
    stream.flushSync();
    expect(destination.writes).toEqual(['one\n', 'two\n']);
    expect(destination.flushes).toEqual(['flush', 'flushSync']);
    vi.advanceTimersByTime(STDOUT_BATCH_WINDOW_MS);
    expect(destination.writes).toHaveLength(2);
  });

  it('gets every line of a logger to a real file, a burst in one write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-log-'));
    try {
      const file = join(dir, 'out.log');
      const sonic = pino.destination({ dest: file, sync: false, mkdir: true });
      await new Promise((resolve) => sonic.once('ready', resolve));
      const written: string[] = [];
      const write = sonic.write.bind(sonic);
      sonic.write = (chunk: string) => (written.push(chunk), write(chunk));
      const logger = pino({ base: null }, batchedWrites(sonic));
      for (let i = 0; i < 50; i++) logger.info({ i }, 'burst');
      await new Promise((resolve) => setTimeout(resolve, STDOUT_BATCH_WINDOW_MS * 5));
      await new Promise<void>((resolve, reject) => sonic.flush((error) => (error ? reject(error) : resolve())));
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { i: number; msg: string });
      expect(lines.map((line) => line.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(written).toHaveLength(1);
      sonic.end();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stdout while its reader stalls', () => {
  it('holds at most its bound, drops and counts the rest, and reports the count once the reader reads again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-fifo-'));
    const fifo = join(dir, 'stdout');
    execFileSync('mkfifo', [fifo]);
    // read-write, so opening does not wait for a reader; nobody reads until the end: the pipe fills (64 KiB)
    const fd = openSync(fifo, constants.O_RDWR);
    const maxBytes = 256 * 1024;
    const destination = stdoutDestination(fd, maxBytes);
    try {
      const logger = pino({ base: null, timestamp: false }, batchedWrites(destination));
      reportDroppedLines(destination, logger);
      const sent = 20_000;
      const padding = 'x'.repeat(80);
      for (let i = 0; i < sent; i++) {
        logger.info({ i, padding }, 'line');
        if (i % 1_000 === 999) await new Promise((resolve) => setTimeout(resolve, STDOUT_BATCH_WINDOW_MS * 2));
      }
      // ≈ 2.3 MB logged, against 64 KiB of pipe and 256 KiB of buffer
      expect((destination as unknown as { _len: number })._len).toBeLessThanOrEqual(maxBytes);

      const received: Array<{ i?: number; msg: string; lines?: number }> = [];
      await new Promise<void>((resolve, reject) => {
        const reader = createReadStream(fifo);
        let partial = '';
        reader.on('error', reject);
        reader.on('data', (chunk) => {
          partial += chunk.toString();
          const parts = partial.split('\n');
          partial = parts.pop() ?? '';
          for (const part of parts) received.push(JSON.parse(part) as { i?: number; msg: string; lines?: number });
          if (received.some((entry) => entry.msg === 'stdout log lines dropped')) {
            reader.destroy();
            resolve();
          }
        });
      });
      const report = received.find((entry) => entry.msg === 'stdout log lines dropped')!;
      const delivered = received.filter((entry) => entry.msg === 'line');
      expect(report.lines).toBeGreaterThan(0);
      // every line is either delivered, in order, or counted
      expect(delivered.length + report.lines!).toBe(sent);
      const order = delivered.map((entry) => entry.i!);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    } finally {
      // the destination closes the fd
      await new Promise((resolve) => {
        destination.once('close', resolve);
        destination.destroy();
      });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
