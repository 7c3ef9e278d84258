import type { FastifyInstance } from 'fastify';

export const GATEWAY_MODEL_ID = 'openclaw';

const modelListSchema = {
  type: 'object',
  properties: {
    object: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          object: { type: 'string' },
          created: { type: 'integer' },
          owned_by: { type: 'string' },
        },
        required: ['id', 'object', 'created', 'owned_by'],
      },
    },
  },
  required: ['object', 'data'],
} as const;

/**
 * GET /v1/models: the one model the gateway serves, in the OpenAI list shape. The answer never changes
 * while the process lives, so it is serialised once (the schema documents it) and sent as bytes.
 */
export function modelsRoutes(startedAt: number) {
  const created = Math.floor(startedAt / 1000);
  const body = { object: 'list', data: [{ id: GATEWAY_MODEL_ID, object: 'model', created, owned_by: 'openclaw' }] };
  const serialised = Buffer.from(JSON.stringify(body));
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/models', { schema: { response: { 200: modelListSchema } } }, (_request, reply) => {
      reply.header('content-type', 'application/json; charset=utf-8').send(serialised);
    });
  };
}
