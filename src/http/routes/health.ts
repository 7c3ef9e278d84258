import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../Readiness.js';

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
  required: ['status'],
} as const;

export function healthRoutes(readiness: Readiness) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/healthz', { config: { public: true }, schema: { response: { 200: statusSchema } } }, async () => ({
      status: 'ok',
    }));
    app.get(
      '/readyz',
      { config: { public: true }, schema: { response: { 200: statusSchema, 503: statusSchema } } },
      async (_request, reply) => {
        const reason = readiness.notReadyReason();
        if (reason !== null) return reply.code(503).send({ status: 'unavailable', reason });
        return { status: 'ready' };
      },
    );
  };
}
