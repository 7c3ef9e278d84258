import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorBody, type ErrorType } from '../errors.js';

const AUTH_CHALLENGE = 'Bearer realm="openclaw"';

/** An error as it goes on the wire: status, headers (names in lower case) and the serialised JSON body. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** headers plus content-length, for a response written straight to node's ServerResponse (the fast lane). */
  readonly rawHeaders: Readonly<Record<string, string>>;
}

/** Built once per error object: the shared 401 / 429 objects of authPlugin are sent many times. */
const responses = new WeakMap<GatewayError, ErrorResponse>();
/** Sends a serialised body as it is, and leaves the Content-Type alone (see sendError). */
const asIs = (body: string): string => body;

/** Every error leaves the HTTP face in the shape {"error":{"message","type"}}; never a stack trace. */
export function errorResponse(error: GatewayError): ErrorResponse {
  let response = responses.get(error);
  if (response) return response;
  const headers: Record<string, string> = {};
  if (error.type === 'unauthorized') headers['www-authenticate'] = AUTH_CHALLENGE;
  if (error.extra.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.extra.retryAfterSeconds);
  if (error.extra.headers) for (const [name, value] of Object.entries(error.extra.headers)) headers[name.toLowerCase()] = value;
  // Exactly `application/json` (GATEWAY.md §4).
  headers['content-type'] = 'application/json';
  const body = JSON.stringify(errorBody(error.type, error.message));
  response = { status: error.status, headers, body, rawHeaders: { ...headers, 'content-length': String(Buffer.byteLength(body)) } };
  responses.set(error, response);
  return response;
}

export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  const { status, headers, body } = errorResponse(error);
  // fastify adds a charset to a string it sends itself, not to one that went through a reply serializer.
  // A string rather than a Buffer because node writes a string body in the same write as the head
  // (a Buffer: cork + writev, ≈ 0.5 µs).
  return reply.code(status).headers(headers).serializer(asIs).send(body);
}

export function registerErrorMapper(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | GatewayError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof GatewayError) return sendError(reply, error);
    const mapped = mapFastifyError(error);
    if (mapped.type === 'internal_error') request.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
    return sendError(reply, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new GatewayError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

function mapFastifyError(error: FastifyError): GatewayError {
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return new GatewayError('payload_too_large', 'Request body is too large.');
  }
  if (error.validation) return new GatewayError('invalid_request', `Invalid request: ${error.message}`);
  if (status >= 400 && status < 500) {
    const type: ErrorType = status === 404 ? 'not_found' : status === 408 ? 'timeout' : 'invalid_request';
    return new GatewayError(type, error.message || 'Bad request.');
  }
  return new GatewayError('internal_error', 'Internal server error.');
}
