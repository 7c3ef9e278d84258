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

export interface LoggerBundle {
  readonly logger: Logger;
  readonly ring: LogRing;
}

/** JSON lines to stdout and to the in-memory ring that `openclaw logs` reads. */
export function createLogger(options: { level: string; replicaId: string; stdout?: boolean }): LoggerBundle {
  const ring = new LogRing();
  const ringStream = { write: (line: string) => ring.push(line.endsWith('\n') ? line.slice(0, -1) : line) };
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: ringStream }];
  if (options.stdout !== false) streams.push({ level: 'trace', stream: pino.destination({ fd: 1, sync: false }) });
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
