import { RpcError, type RpcErrorObject } from './RpcError.js';

export type RpcId = string | number | null;

/** A request from the client; `id` undefined means a JSON-RPC notification (no answer is sent). */
export interface RpcRequest {
  readonly id: RpcId | undefined;
  readonly method: string;
  readonly params: unknown;
}

export type ParsedFrame =
  | { readonly ok: true; readonly request: RpcRequest }
  | { readonly ok: false; readonly id: RpcId; readonly error: RpcError };

const MAX_ID_LENGTH = 256;
const MAX_METHOD_LENGTH = 128;

/** JSON-RPC 2.0 framing of one text frame. Batches are refused (one request per frame). */
export function parseFrame(text: string): ParsedFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { ok: false, id: null, error: RpcError.parse() };
  }
  if (Array.isArray(message)) return invalid(null, 'batch requests are not supported');
  if (message === null || typeof message !== 'object') return invalid(null, 'a request must be a JSON object');
  const { jsonrpc, id, method, params } = message as Record<string, unknown>;
  if (!isValidId(id)) return invalid(null, 'id must be a string, a number or null');
  const replyId = id ?? null;
  if (jsonrpc !== '2.0') return invalid(replyId, 'jsonrpc must be "2.0"');
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH) {
    return invalid(replyId, 'method must be a non-empty string');
  }
  if (params !== undefined && (params === null || typeof params !== 'object')) {
    return invalid(replyId, 'params must be an object or an array');
  }
  return { ok: true, request: { id, method, params } };
}

function isValidId(id: unknown): id is RpcId | undefined {
  if (id === undefined || id === null) return true;
  if (typeof id === 'number') return Number.isFinite(id);
  return typeof id === 'string' && id.length <= MAX_ID_LENGTH;
}

function invalid(id: RpcId, message: string): ParsedFrame {
  return { ok: false, id, error: RpcError.invalidRequest(message) };
}

export function resultFrame(id: RpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result: result ?? null });
}

export function errorFrame(id: RpcId, error: RpcErrorObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

export function notificationFrame(method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}
