import { GatewayError, type ErrorType } from '../errors.js';

const MAX_UPSTREAM_MESSAGE_CHARS = 300;

/** Why the gateway aborted its own upstream request (the AbortSignal reason). */
export class UpstreamAbortReason extends Error {
  constructor(readonly kind: 'timeout' | 'caller-gone') {
    super(kind === 'timeout' ? 'upstream timeout' : 'caller went away');
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export function isCallerGone(error: unknown): boolean {
  return error instanceof UpstreamAbortReason && error.kind === 'caller-gone';
}

/** A transport failure (refused, reset, timed out) as the client sees it: 504 timeout or 502 upstream_error. */
export function transportError(error: unknown, timeoutSeconds: number): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = errorCode(error);
  if ((error instanceof UpstreamAbortReason && error.kind === 'timeout') || (code && TIMEOUT_CODES.has(code))) {
    return new GatewayError('timeout', `The upstream did not answer within ${timeoutSeconds} s.`);
  }
  if (isCallerGone(error)) return new GatewayError('upstream_error', 'The request was cancelled by the client.');
  return new GatewayError('upstream_error', `The upstream could not be reached${code ? ` (${code})` : ''}.`);
}

/**
 * A non-2xx upstream answer. Client mistakes the upstream reports (400, 404, 413, 422, 429) keep their status,
 * with the upstream's own short message; everything else, including the upstream refusing the gateway's
 * API key, is the gateway's problem and becomes 502. Upstream bodies are never passed on verbatim.
 */
export function upstreamStatusError(status: number, bodyText: string, retryAfter: string | undefined): GatewayError {
  const clientType = CLIENT_STATUS_TYPES.get(status);
  if (clientType) {
    const detail = upstreamMessage(bodyText);
    const message = detail ? `Upstream: ${detail}` : `The upstream rejected the request (HTTP ${status}).`;
    const headers: Record<string, string> = {};
    if (clientType === 'rate_limited' && retryAfter && /^\d{1,6}$/.test(retryAfter)) headers['Retry-After'] = retryAfter;
    return new GatewayError(clientType, message, { headers });
  }
  if (status === 401 || status === 403) {
    return new GatewayError(
      'upstream_error',
      `The upstream refused the gateway's credentials (HTTP ${status}); check gateway.upstream.apiKey.`,
    );
  }
  return new GatewayError('upstream_error', `The upstream answered HTTP ${status}.`);
}

const CLIENT_STATUS_TYPES = new Map<number, ErrorType>([
  [400, 'invalid_request'],
  [404, 'not_found'],
  [413, 'payload_too_large'],
  [422, 'invalid_request'],
  [429, 'rate_limited'],
]);

/** `error.message` (OpenAI shape) or `message` (vLLM, Ollama), single line and cut short. */
function upstreamMessage(bodyText: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as { error?: unknown; message?: unknown };
  const nested = typeof record.error === 'object' && record.error !== null ? (record.error as { message?: unknown }).message : undefined;
  const candidate = typeof nested === 'string' ? nested : typeof record.error === 'string' ? record.error : record.message;
  if (typeof candidate !== 'string' || candidate.trim() === '') return undefined;
  const line = candidate.replace(/\s+/g, ' ').trim();
  return line.length > MAX_UPSTREAM_MESSAGE_CHARS ? `${line.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}…` : line;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
  return cause === undefined || cause === error ? undefined : errorCode(cause);
}
