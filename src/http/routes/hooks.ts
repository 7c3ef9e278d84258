import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { Notifier } from '../../ws/Notifier.js';

/** Largest hook body accepted (413 beyond). */
export const HOOK_PAYLOAD_LIMIT_BYTES = 64 * 1024;
/**
 * Largest payload once serialized into the notification. JSON escaping can grow a text body up to 6×
 * (`\u0001`), and the notification must stay well under the cluster bus's message limit.
 */
export const HOOK_NOTIFICATION_PAYLOAD_LIMIT_BYTES = 128 * 1024;

export interface HookNotification {
  readonly name: string;
  readonly id: string;
  readonly payload: unknown;
  /** Epoch milliseconds, like every other timestamp of the gateway. */
  readonly receivedAt: number;
}

const paramsSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } },
} as const;

const acceptedSchema = {
  type: 'object',
  required: ['ok', 'id'],
  properties: { ok: { type: 'boolean' }, id: { type: 'string' } },
} as const;

/** JSON.stringify is recursive: a payload nested a few thousand levels deep overflows the stack. */
function encodedPayload(payload: unknown): string {
  try {
    return JSON.stringify(payload);
  } catch (error) {
    if (error instanceof RangeError) throw new GatewayError('invalid_request', 'The hook payload nests too deeply.');
    throw error;
  }
}

/**
 * POST /hooks/:name (control identities): the payload is pushed as a `hook` notification to every control
 * WebSocket session on every replica. JSON bodies arrive parsed; any other content type as text.
 */
export function hookRoutes(notifier: Notifier) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    // Encapsulated: only the hook route accepts arbitrary content types.
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: HOOK_PAYLOAD_LIMIT_BYTES }, (_request, body, done) =>
      done(null, body),
    );
    app.post(
      '/hooks/:name',
      { bodyLimit: HOOK_PAYLOAD_LIMIT_BYTES, schema: { params: paramsSchema, response: { 202: acceptedSchema } } },
      async (request, reply) => {
        const identity = request.identity;
        if (!identity) throw new GatewayError('unauthorized', 'Authentication required.');
        if (identity.role !== 'control') {
          throw new GatewayError('forbidden', 'Hooks are for control identities; a device token cannot post them.');
        }
        const { name } = request.params as { name: string };
        const payload = request.body ?? null;
        const bytes = Buffer.byteLength(encodedPayload(payload));
        if (bytes > HOOK_NOTIFICATION_PAYLOAD_LIMIT_BYTES) {
          throw new GatewayError('payload_too_large', 'The hook payload is too large once encoded as JSON.');
        }
        const notification: HookNotification = { name, id: randomUUID(), payload, receivedAt: Date.now() };
        try {
          await notifier.notify({ role: 'control' }, 'hook', notification);
        } catch (error) {
          request.log.warn({ err: error, name, id: notification.id }, 'hook delivery failed');
          throw new GatewayError('unavailable', 'The hook could not be delivered to the cluster; try again.');
        }
        request.log.info({ name, id: notification.id, bytes, identity: identity.identity }, 'hook received');
        return reply.code(202).send({ ok: true, id: notification.id });
      },
    );
  };
}
