import type { FastifyInstance, FastifyReply } from 'fastify';
import { chatRequestSchema, validateChatRequest, type ChatCompletionRequest } from '../../upstream/chatRequest.js';
import { relaySse } from '../../upstream/relaySse.js';
import { traceContextOf } from '../../upstream/traceContext.js';
import type { UpstreamClient } from '../../upstream/UpstreamClient.js';

/**
 * POST /v1/chat/completions (any authenticated identity): forwarded to gateway.upstream. The route owns the
 * upstream client's lifecycle (closed with the server).
 */
export function chatRoutes(upstream: UpstreamClient) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.addHook('onClose', async () => upstream.close());
    app.post(
      '/v1/chat/completions',
      {
        schema: { body: chatRequestSchema },
        // The shared validator (same as the WebSocket method), not ajv: no type coercion of what clients send.
        validatorCompiler: () => (body: unknown) => {
          try {
            return { value: validateChatRequest(body) };
          } catch (error) {
            return { error: error as Error };
          }
        },
      },
      async (request, reply) => {
        const body = request.body as ChatCompletionRequest;
        const options = { signal: cancelledWhenClientLeaves(reply), trace: traceContextOf(request.headers) };
        if (body.stream === true) {
          const stream = await upstream.openStream(body, options);
          reply.hijack();
          await relaySse(stream, reply.raw, request.log);
          return reply;
        }
        const completion = await upstream.complete(body, options);
        return reply.code(200).type('application/json; charset=utf-8').send(completion.json);
      },
    );
  };
}

/** Aborted when the client's connection closes before the answer was fully written. */
function cancelledWhenClientLeaves(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
