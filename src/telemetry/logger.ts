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

/** stdout lines logged in one event-loop turn are written together, up to this many UTF-16 units a write. */
export const STDOUT_BATCH_MAX_LENGTH = 64 * 1024;

/**
 * stdout (async, via pino's SonicBoom) fed once per event-loop turn. Under load the gateway logs a line per
 * WebSocket session; one write per line put a thread-pool write on the 2-core box for each (≈ a tenth of the
 * gateway's CPU in the handshake profile). Lines are released in the check phase of the turn that logged
 * them (setImmediate), so they reach stdout as promptly as before; only the number of writes goes down.
 * pino flushes the destination at exit (flushSync on 'exit'), which releases the open batch first.
 */
function batchedStdout(): { write(line: string): void; flushSync(): void } {
  const destination = pino.destination({ fd: 1, sync: false });
  const flushDestination = destination.flush.bind(destination);
  const flushDestinationSync = destination.flushSync.bind(destination);
  let batch = '';
  let scheduled: NodeJS.Immediate | undefined;
  const release = () => {
    if (scheduled !== undefined) clearImmediate(scheduled);
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
      else scheduled ??= setImmediate(release);
    },
    flushSync: () => destination.flushSync(),
  };
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
  if (options.stdout !== false) streams.push({ level: 'trace', stream: batchedStdout() });
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
  return { logger, ring };
}
