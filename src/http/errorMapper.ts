import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorBody, type ErrorType } from '../errors.js';

const AUTH_CHALLENGE = 'Bearer realm="openclaw"';
/** Serialised bodies of errors that are sent many times (the shared 401 / 429 objects of authPlugin). */
const bodies = new WeakMap<GatewayError, Buffer>();

/** Every error leaves the HTTP face here, in the shape {"error":{"message","type"}}; never a stack trace. */
export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  if (error.type === 'unauthorized') reply.header('WWW-Authenticate', AUTH_CHALLENGE);
  if (error.extra.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.extra.retryAfterSeconds));
  if (error.extra.headers) for (const [name, value] of Object.entries(error.extra.headers)) reply.header(name, value);
  let body = bodies.get(error);
  if (!body) {
    body = Buffer.from(JSON.stringify(errorBody(error.type, error.message)));
    bodies.set(error, body);
  }
  // A Buffer keeps the Content-Type exactly `application/json` (GATEWAY.md §4); fastify would add a charset to a string.
  return reply.code(error.status).header('content-type', 'application/json').send(body);
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
