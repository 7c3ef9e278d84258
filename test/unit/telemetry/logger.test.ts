import { describe, expect, it } from 'vitest';
import { createLogger, NESTED_SECRET_KEYS } from '../../../src/telemetry/logger.js';

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
