import { pino, type Logger } from 'pino';
import { LogRing } from './LogRing.js';

export type { Logger } from 'pino';

/** Paths pino blanks as a second line of defence; the first is never passing secrets to the logger. */
export const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'claimSecret',
  'authorization',
  '*.token',
  '*.password',
  '*.authorization',
  '*.claimSecret',
  'headers.authorization',
  'headers["x-openclaw-token"]',
  'req.headers.authorization',
  'req.headers["x-openclaw-token"]',
  'req.headers.cookie',
];

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
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
  return { logger, ring };
}
