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

/** GET /v1/models: the one model the gateway serves, in the OpenAI list shape. */
export function modelsRoutes(startedAt: number) {
  const created = Math.floor(startedAt / 1000);
  const body = { object: 'list', data: [{ id: GATEWAY_MODEL_ID, object: 'model', created, owned_by: 'openclaw' }] };
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/models', { schema: { response: { 200: modelListSchema } } }, async () => body);
  };
}
