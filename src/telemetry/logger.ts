import { pino, type Logger } from 'pino';
import { LogRing } from './LogRing.js';

export type { Logger } from 'pino';

const CENSOR = '[redacted]';

/**
 * What the logger blanks, as a second line of defence; the first is never passing secrets to it. Top-level keys
 * and the header paths here, through pino's redaction (it runs only for lines that have the path's first key)…
 */
export const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'claimSecret',
  'authorization',
  'headers["x-openclaw-token"]',
  'req.headers.authorization',
  'req.headers["x-openclaw-token"]',
  'req.headers.cookie',
];

/**
 * …and these keys one level down, under any key (`client.token`, `headers.authorization`, `err.password`): what
 * pino would spell `*.token`. Checked here instead: pino's wildcard paths redact every key of every line through
 * a cloning path walker, ≈ 5.5 µs a line, three times the rest of the line's cost (the `ws session connected` line
 * was ≈ 6 % of the gateway's CPU a WebSocket handshake).
 */
export const NESTED_SECRET_KEYS = ['token', 'password', 'secret', 'claimSecret', 'authorization'];

function hasNestedSecret(value: object): boolean {
  for (const key of NESTED_SECRET_KEYS) {
    if (Object.hasOwn(value, key) && (value as Record<string, unknown>)[key] !== undefined) return true;
  }
  return false;
}

/**
 * A copy of `value` with its secrets blanked: the same prototype and every own property, so an Error stays one.
 * Accessors are read on the original (an error's `stack` is one on Node 24, and reads nothing on a copy).
 */
function censoredCopy(value: object): object {
  const copy = Object.create(Object.getPrototypeOf(value)) as object;
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(value))) {
    const own = 'value' in descriptor ? (descriptor.value as unknown) : (value as Record<string, unknown>)[key];
    const secret = own !== undefined && NESTED_SECRET_KEYS.includes(key);
    Object.defineProperty(copy, key, { value: secret ? CENSOR : own, enumerable: descriptor.enumerable, writable: true, configurable: true });
  }
  return copy;
}

/** pino's formatters.log: the logged object, or a copy of it whose nested secrets are blanked (the caller's object is left as it is). */
export function censorNestedSecrets(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    const value = object[key];
    if (value === null || typeof value !== 'object' || !Object.hasOwn(object, key) || !hasNestedSecret(value)) continue;
    copy ??= { ...object };
    copy[key] = censoredCopy(value);
  }
  return copy ?? object;
}

/** stdout lines logged within STDOUT_BATCH_WINDOW_MS are written together, up to this many UTF-16 units a write. */
export const STDOUT_BATCH_MAX_LENGTH = 64 * 1024;
/** How long a line may wait for others before it is written. */
export const STDOUT_BATCH_WINDOW_MS = 10;

/** What batchedWrites feeds: pino's SonicBoom (stdout, asynchronous). */
export interface LineDestination {
  write(chunk: string): unknown;
  flush(callback?: (error?: Error) => void): void;
  flushSync(): void;
}

/**
 * Lines to `destination` in batches: the first line of a batch waits at most STDOUT_BATCH_WINDOW_MS for the
 * others (a batch reaching STDOUT_BATCH_MAX_LENGTH goes at once). Why: stdout to a file or pipe is written on
 * libuv's thread pool, and each write costs a hand-off to a pool thread and back (futexes, an eventfd, a
 * callback): ≈ 20 µs of CPU on the 2-core bench box. A WebSocket handshake logs one line, and batching per
 * event-loop turn (as before) still wrote them one by one at 7,000 handshakes a second: ≈ 13 % of the
 * gateway's CPU a handshake (bench/README "Thirteenth round"). Ten milliseconds is well under what anyone
 * reading logs notices. Nothing is lost at exit: pino flushes the destination on 'exit' (flushSync), which
 * releases the open batch first; flush() does too.
 */
export function batchedWrites(destination: LineDestination): { write(line: string): void; flushSync(): void } {
  const flushDestination = destination.flush.bind(destination);
  const flushDestinationSync = destination.flushSync.bind(destination);
  let batch = '';
  let scheduled: NodeJS.Timeout | undefined;
  const release = () => {
    if (scheduled !== undefined) clearTimeout(scheduled);
    scheduled = undefined;
    if (batch === '') return;
    const chunk = batch;
    batch = '';
    destination.write(chunk);
  };
  destination.flush = (callback?: (error?: Error) => void) => {
    release();
    flushDestination(callback);
  };
  destination.flushSync = () => {
    release();
    flushDestinationSync();
  };
  return {
    write(line: string) {
      batch += line;
      if (batch.length >= STDOUT_BATCH_MAX_LENGTH) release();
      else scheduled ??= setTimeout(release, STDOUT_BATCH_WINDOW_MS);
    },
    flushSync: () => destination.flushSync(),
  };
}

/**
 * What stdout holds while its reader (a log shipper, a terminal, a full pipe) does not read: beyond this, lines are
 * dropped, counted, and reported once it reads again. Without a bound pino's destination would grow without limit.
 */
export const STDOUT_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

/** pino's asynchronous destination (SonicBoom). */
type Destination = ReturnType<typeof pino.destination>;

/** pino's asynchronous destination on `fd`, holding at most `maxBytes` unwritten (SonicBoom's maxLength). */
export function stdoutDestination(fd = 1, maxBytes = STDOUT_BUFFER_MAX_BYTES): Destination {
  return pino.destination({ fd, sync: false, maxLength: maxBytes });
}

/**
 * Counts the lines `destination` dropped at its bound and logs how many once it writes again: not while it is
 * stalled, where the report would be dropped too.
 */
export function reportDroppedLines(destination: Destination, logger: Logger): void {
  let dropped = 0;
  destination.on('drop', (chunk: string | Buffer) => {
    dropped += countLines(String(chunk));
  });
  destination.on('write', () => {
    if (dropped === 0) return;
    const lines = dropped;
    dropped = 0;
    logger.warn({ lines }, 'stdout log lines dropped');
  });
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}

export interface LoggerBundle {
  readonly logger: Logger;
  readonly ring: LogRing;
}

/** JSON lines to stdout and to the in-memory ring that `openclaw logs` reads. */
export function createLogger(options: { level: string; replicaId: string; stdout?: boolean }): LoggerBundle {
  const ring = new LogRing();
  const ringStream = { write: (line: string) => ring.push(line.endsWith('\n') ? line.slice(0, -1) : line) };
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: ringStream }];
  const stdout = options.stdout === false ? undefined : stdoutDestination();
  if (stdout) streams.push({ level: 'trace', stream: batchedWrites(stdout) });
  const logger = pino(
    {
      level: options.level,
      base: { replicaId: options.replicaId },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { log: censorNestedSecrets },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
  if (stdout) reportDroppedLines(stdout, logger);
  return { logger, ring };
}
