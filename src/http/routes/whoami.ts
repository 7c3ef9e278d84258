import type { FastifyInstance } from 'fastify';
import '../requestIdentity.js';

const whoamiSchema = {
  type: 'object',
  properties: {
    method: { type: 'string' },
    identity: { type: 'string' },
    role: { type: 'string' },
    clientIp: { type: 'string' },
  },
  required: ['method', 'identity', 'role', 'clientIp'],
} as const;

/** GET /v1/whoami: how this request was authenticated (the auth plugin has run before the handler). */
export function whoamiRoutes() {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/whoami', { schema: { response: { 200: whoamiSchema } } }, (request) => {
      const { identity, clientIp } = request;
      if (!identity) throw new Error('whoami reached without an identity');
      return { method: identity.method, identity: identity.identity, role: identity.role, clientIp };
    });
  };
}
