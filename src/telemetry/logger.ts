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

/** stdout lines are written in batches: at most this many bytes or this many ms after the first line of a batch. */
export const STDOUT_BATCH = { maxBytes: 16 * 1024, maxDelayMs: 25 } as const;

/**
 * stdout (async, via pino's SonicBoom) fed in batches. Under load the gateway logs a line per WebSocket
 * session; one write per line put a thread-pool write on the 2-core box for each (≈ a tenth of the
 * gateway's CPU in the handshake profile). A batch goes out once it holds STDOUT_BATCH.maxBytes or
 * STDOUT_BATCH.maxDelayMs after its first line, whichever is first; no timer runs while nothing is logged.
 * pino flushes the destination at exit (flushSync on 'exit'), which releases the open batch first.
 */
function batchedStdout(): { write(line: string): void; flushSync(): void } {
  const destination = pino.destination({ fd: 1, sync: false });
  const flushDestination = destination.flush.bind(destination);
  const flushDestinationSync = destination.flushSync.bind(destination);
  let batch = '';
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
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
      if (batch.length >= STDOUT_BATCH.maxBytes) release();
      else if (timer === undefined) {
        timer = setTimeout(release, STDOUT_BATCH.maxDelayMs);
        timer.unref();
      }
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
