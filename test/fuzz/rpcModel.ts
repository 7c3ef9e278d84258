// What the WebSocket API must answer to one text frame (GATEWAY.md section 5), as a model of the
// framing rules; and the table of documented JSON-RPC error codes and their data.type.
export type FrameExpectation =
  | { readonly kind: 'error'; readonly id: string | number | null; readonly code: number; readonly type: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'dispatched'; readonly id: string | number | null; readonly method: string; readonly params: unknown };

const MAX_ID_LENGTH = 256;
const MAX_METHOD_LENGTH = 128;

export function expectedFor(text: string): FrameExpectation {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'error', id: null, code: -32700, type: 'parse_error' };
  }
  const invalid = (id: string | number | null) => ({ kind: 'error' as const, id, code: -32600, type: 'invalid_request' });
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return invalid(null);
  const { jsonrpc, id, method, params } = message as Record<string, unknown>;
  const idValid =
    id === undefined || id === null || (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= MAX_ID_LENGTH);
  if (!idValid) return invalid(null);
  const replyId = (id ?? null) as string | number | null;
  if (jsonrpc !== '2.0') return invalid(replyId);
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH) return invalid(replyId);
  if (params !== undefined && (params === null || typeof params !== 'object')) return invalid(replyId);
  if (id === undefined) return { kind: 'none' };
  return { kind: 'dispatched', id: replyId, method, params };
}

/** Every documented error code and the data.type values it may carry. -32603 is absent on purpose: it means a bug. */
export const DOCUMENTED_ERRORS: Readonly<Record<number, readonly string[]>> = {
  [-32700]: ['parse_error'],
  [-32600]: ['invalid_request', 'payload_too_large'],
  [-32601]: ['method_not_found'],
  [-32602]: ['invalid_request'],
  [-32001]: ['unauthorized'],
  [-32002]: ['rate_limited'],
  [-32003]: ['forbidden'],
  [-32004]: ['not_connected'],
  [-32005]: ['not_found'],
  [-32006]: ['conflict'],
  [-32007]: ['unavailable', 'upstream_unavailable'],
};

export interface RpcErrorShape {
  readonly code: number;
  readonly message: string;
  readonly data: { readonly type: string; readonly retryAfter?: number };
}

/** Null when the error object is documented and well-formed, otherwise what is wrong with it. */
export function undocumented(error: RpcErrorShape): string | null {
  const types = DOCUMENTED_ERRORS[error.code];
  if (!types) return `undocumented code ${error.code}`;
  if (typeof error.message !== 'string' || error.message.length === 0) return 'no message';
  if (!types.includes(error.data?.type)) return `code ${error.code} with data.type ${String(error.data?.type)}`;
  if (error.code === -32002 && !(Number.isInteger(error.data.retryAfter) && error.data.retryAfter! >= 1)) return 'rate_limited without retryAfter';
  return null;
}

/** Method names worth trying: real ones, prototype keys, and near misses. */
export const ODD_METHOD_NAMES = [
  'status',
  'logs.tail',
  'chat.completions',
  'node.pair.request',
  'node.pair.claim',
  'node.pair.list',
  'node.pair.approve',
  'node.pair.reject',
  'device.list',
  'device.token.rotate',
  'device.token.revoke',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'status ',
  'STATUS',
  'status\u0000',
  'node.pair.request.',
  '.',
  '\u202e',
  'x'.repeat(128),
] as const;
