import type { FastifyInstance } from 'fastify';
import type { HotRoute } from '../FastLane.js';

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

/** GET /v1/models serialised: the one model the gateway serves, in the OpenAI list shape. */
function modelListJson(startedAt: number): string {
  const created = Math.floor(startedAt / 1000);
  return JSON.stringify({ object: 'list', data: [{ id: GATEWAY_MODEL_ID, object: 'model', created, owned_by: 'openclaw' }] });
}

const MODELS_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * GET /v1/models. The answer never changes while the process lives, so it is serialised once (the schema
 * documents it) and sent as a string: node writes a string body in the same write as the head; a Buffer
 * goes out as a separate chunk (cork + writev), ≈ 0.5 µs more per response. The fast lane
 * (http/FastLane.ts) answers the plain `GET /v1/models` with the same bytes; this route serves the rest
 * (HEAD, a trailing slash, a query string, a request with a body).
 */
export function modelsRoutes(startedAt: number) {
  const serialised = modelListJson(startedAt);
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/models', { schema: { response: { 200: modelListSchema } } }, (_request, reply) => {
      reply.header('content-type', MODELS_CONTENT_TYPE).send(serialised);
    });
  };
}

/** The fast lane's `GET /v1/models`: the same bytes and headers as the route above. */
export function modelsHotRoute(startedAt: number): HotRoute {
  const body = modelListJson(startedAt);
  const answer = { status: 200, headers: { 'content-type': MODELS_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)) }, body };
  return () => answer;
}
