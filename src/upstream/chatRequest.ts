import { GatewayError } from '../errors.js';

/** The model name clients use for "whatever this gateway is configured to serve". */
export const GATEWAY_MODEL = 'openclaw';

const MAX_MODEL_LENGTH = 256;
const MAX_MESSAGES = 10_000;
/** Deeper than any real body (tool schemas included); beyond it JSON.stringify on the way upstream overflows the stack. */
export const MAX_BODY_DEPTH = 100;

export interface ChatMessage {
  readonly role: string;
  readonly [field: string]: unknown;
}

/** An OpenAI Chat Completions body: model and messages are checked, every other field is the upstream's business. */
export interface ChatCompletionRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly stream?: boolean;
  readonly [field: string]: unknown;
}

/** JSON Schema of the body, for route documentation; validateChatRequest is what enforces it (no type coercion). */
export const chatRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: MAX_MODEL_LENGTH },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_MESSAGES,
      items: { type: 'object', required: ['role'], properties: { role: { type: 'string', minLength: 1 } } },
    },
    stream: { type: 'boolean' },
  },
} as const;

/** Shared by HTTP and WebSocket so both faces accept exactly the same bodies. Throws invalid_request. */
export function validateChatRequest(body: unknown): ChatCompletionRequest {
  if (!isPlainObject(body)) throw invalid('the body must be a JSON object');
  const { model, messages, stream } = body;
  if (typeof model !== 'string' || model.length === 0) throw invalid('"model" must be a non-empty string');
  if (model.length > MAX_MODEL_LENGTH) throw invalid(`"model" must be at most ${MAX_MODEL_LENGTH} characters`);
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('"messages" must be a non-empty array');
  if (messages.length > MAX_MESSAGES) throw invalid(`"messages" must have at most ${MAX_MESSAGES} entries`);
  messages.forEach((message: unknown, index) => {
    if (!isPlainObject(message)) throw invalid(`"messages[${index}]" must be an object`);
    if (typeof message.role !== 'string' || message.role.length === 0) {
      throw invalid(`"messages[${index}].role" must be a non-empty string`);
    }
  });
  if (stream !== undefined && typeof stream !== 'boolean') throw invalid('"stream" must be a boolean');
  if (exceedsDepth(body, MAX_BODY_DEPTH)) throw invalid(`the body must not nest deeper than ${MAX_BODY_DEPTH} levels`);
  return body as ChatCompletionRequest;
}

/** The body sent upstream: model `openclaw` becomes gateway.upstream.model when one is set. */
export function upstreamChatBody(request: ChatCompletionRequest, upstreamModel: string): ChatCompletionRequest {
  if (request.model !== GATEWAY_MODEL || upstreamModel === '') return request;
  return { ...request, model: upstreamModel };
}

function invalid(detail: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid request: ${detail}.`);
}

/** Iterative, so a hostile body cannot overflow the stack of the check itself. */
function exceedsDepth(root: unknown, maxDepth: number): boolean {
  const pending: Array<[value: unknown, depth: number]> = [[root, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(value)) if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
