import { GatewayError } from '../../errors.js';
import { ChatCompletionAccumulator } from '../../upstream/ChatCompletionAccumulator.js';
import { validateChatRequest } from '../../upstream/chatRequest.js';
import { SseEventParser } from '../../upstream/SseEventParser.js';
import type { UpstreamClient } from '../../upstream/UpstreamClient.js';
import type { RpcCallContext, RpcMethod, RpcSessionView } from '../rpc/RpcMethod.js';

/** One controller per session (not per call), so a long session does not pile up close handlers. */
const sessionSignals = new WeakMap<RpcSessionView, AbortSignal>();

/**
 * `chat.completions` (webchat, control): the HTTP body as params, answered with the `chat.completion`.
 * With `stream: true` every upstream chunk first arrives as a `chat.delta {id, delta}` notification
 * (`id` = this request's JSON-RPC id, `delta` = the chunk object), then the result is the assembled
 * completion. The upstream call is cancelled when the session closes.
 */
export function chatMethods(upstream: UpstreamClient): RpcMethod[] {
  return [
    {
      name: 'chat.completions',
      roles: ['webchat', 'control'],
      handle: async (params, call) => {
        const body = validateChatRequest(params);
        const signal = closedSignal(call);
        if (body.stream !== true) return (await upstream.complete(body, { signal })).value;
        const stream = await upstream.openStream(body, { signal });
        const parser = new SseEventParser();
        const completion = new ChatCompletionAccumulator();
        const relay = (events: string[]): boolean => {
          for (const data of events) {
            if (data.trim() === '[DONE]') return true;
            const chunk = parseChunk(data);
            completion.add(chunk);
            call.notify('chat.delta', { id: call.requestId ?? null, delta: chunk });
          }
          return false;
        };
        let done = false;
        for await (const bytes of stream.chunks) {
          done = relay(parser.push(bytes));
          if (done) break;
        }
        if (!done) relay(parser.end());
        return completion.result();
      },
    },
  ];
}

function closedSignal(call: RpcCallContext): AbortSignal {
  let signal = sessionSignals.get(call.session);
  if (!signal) {
    const controller = new AbortController();
    call.onClose(() => controller.abort());
    signal = controller.signal;
    sessionSignals.set(call.session, signal);
  }
  return signal;
}

function parseChunk(data: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new GatewayError('upstream_error', 'The upstream sent an invalid stream event.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('upstream_error', 'The upstream sent an invalid stream event.');
  }
  const record = value as Record<string, unknown>;
  // An error reported in-band by the upstream (OpenAI style) ends the call as an error.
  if (record.error !== undefined) throw new GatewayError('upstream_error', 'The upstream reported an error mid-stream.');
  return record;
}
