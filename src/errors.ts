/**
 * The one table of client-facing error types. HTTP and JSON-RPC both map from it, so the two faces
 * of the gateway cannot drift apart.
 */
export const ERROR_TYPES = {
  invalid_request: { status: 400, rpcCode: -32602 },
  unauthorized: { status: 401, rpcCode: -32001 },
  forbidden: { status: 403, rpcCode: -32003 },
  not_found: { status: 404, rpcCode: -32005 },
  conflict: { status: 409, rpcCode: -32006 },
  payload_too_large: { status: 413, rpcCode: -32600 },
  rate_limited: { status: 429, rpcCode: -32002 },
  internal_error: { status: 500, rpcCode: -32603 },
  upstream_error: { status: 502, rpcCode: -32603 },
  upstream_unavailable: { status: 503, rpcCode: -32007 },
  unavailable: { status: 503, rpcCode: -32007 },
  timeout: { status: 504, rpcCode: -32603 },
} as const;

export type ErrorType = keyof typeof ERROR_TYPES;

export class GatewayError extends Error {
  readonly status: number;
  readonly rpcCode: number;

  constructor(
    readonly type: ErrorType,
    message: string,
    readonly extra: { retryAfterSeconds?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = ERROR_TYPES[type].status;
    this.rpcCode = ERROR_TYPES[type].rpcCode;
  }
}

export function errorBody(type: ErrorType, message: string): { error: { message: string; type: ErrorType } } {
  return { error: { message, type } };
}

export const RATE_LIMITED_MESSAGE = 'Too many failed authentication attempts. Please try again later.';
