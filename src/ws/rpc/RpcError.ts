import { ERROR_TYPES, GatewayError, type ErrorType } from '../../errors.js';
import { StoreUnavailableError } from '../../store/types.js';

/** JSON-RPC-only types; every other `data.type` comes from ERROR_TYPES, shared with the HTTP face. */
export type RpcErrorType = ErrorType | 'parse_error' | 'method_not_found' | 'not_connected';

export const RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  notConnected: -32004,
} as const;

export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data: { readonly type: RpcErrorType; readonly retryAfter?: number };
}

/** An error that leaves the WebSocket face as a JSON-RPC error object. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly type: RpcErrorType,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  static parse(): RpcError {
    return new RpcError(RPC_CODES.parseError, 'parse_error', 'Parse error: the frame is not valid JSON.');
  }

  static invalidRequest(message: string): RpcError {
    return new RpcError(RPC_CODES.invalidRequest, 'invalid_request', `Invalid request: ${message}`);
  }

  static methodNotFound(method: string): RpcError {
    return new RpcError(RPC_CODES.methodNotFound, 'method_not_found', `Method not found: ${method}`);
  }

  static invalidParams(message: string): RpcError {
    return new RpcError(RPC_CODES.invalidParams, 'invalid_request', `Invalid params: ${message}`);
  }

  static notConnected(): RpcError {
    return new RpcError(RPC_CODES.notConnected, 'not_connected', 'Not connected: call connect first.');
  }

  /** A code from the shared table (-32001 unauthorized, -32002 rate_limited, -32003 forbidden, …). */
  static of(type: ErrorType, message: string, retryAfter?: number): RpcError {
    return new RpcError(ERROR_TYPES[type].rpcCode, type, message, retryAfter);
  }

  toObject(): RpcErrorObject {
    const data = this.retryAfter === undefined ? { type: this.type } : { type: this.type, retryAfter: this.retryAfter };
    return { code: this.code, message: this.message, data };
  }
}

/**
 * The one JSON-RPC error mapper: what a method throws becomes an error object here. Anything not
 * meant for clients is reported through onInternal and leaves as a bare -32603.
 */
export function toRpcError(error: unknown, onInternal: (error: unknown) => void): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof GatewayError) return RpcError.of(error.type, error.message, error.extra.retryAfterSeconds);
  if (error instanceof StoreUnavailableError) return RpcError.of('unavailable', 'The gateway store is unavailable; try again.');
  onInternal(error);
  return new RpcError(RPC_CODES.internalError, 'internal_error', 'Internal error.');
}
