import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { AuthService } from '../auth/AuthService.js';
import { hasQuerySecret } from '../auth/credentials.js';
import type { AuthContext, AuthOutcome, Identity } from '../auth/types.js';
import { GatewayError, RATE_LIMITED_MESSAGE } from '../errors.js';
import { sendError } from './errorMapper.js';
import './requestIdentity.js';

const UNAUTHORIZED_MESSAGES: Record<string, string> = {
  'missing credentials': 'Authentication required: send Authorization: Bearer <token> or X-OpenClaw-Token.',
  'invalid credentials': 'Invalid credentials.',
  'tailscale identity required': 'A Tailscale identity is required.',
};

/** The HTTP face of an unsuccessful outcome; the same table of types as every other error. */
function outcomeError(outcome: Exclude<AuthOutcome, { ok: true }>): GatewayError {
  switch (outcome.type) {
    case 'rate_limited':
      return rateLimitedError(outcome.retryAfterSeconds);
    case 'unavailable':
      return new GatewayError('unavailable', outcome.reason);
    case 'unauthorized':
      return unauthorizedError(UNAUTHORIZED_MESSAGES[outcome.reason] ?? 'Authentication failed.');
  }
}

// 401 and 429 are what a flood gets: answer them with shared, immutable error objects instead of building
// (and capturing a stack for) a new Error per request. Both tables are bounded.
const MAX_CACHED_RETRY_AFTER = 3_600;
const unauthorizedErrors = new Map<string, GatewayError>();
const rateLimitedErrors = new Map<number, GatewayError>();

function unauthorizedError(message: string): GatewayError {
  let error = unauthorizedErrors.get(message);
  if (!error) {
    error = new GatewayError('unauthorized', message);
    unauthorizedErrors.set(message, error); // messages come from the fixed table above
  }
  return error;
}

function rateLimitedError(retryAfterSeconds: number): GatewayError {
  let error = rateLimitedErrors.get(retryAfterSeconds);
  if (!error) {
    error = new GatewayError('rate_limited', RATE_LIMITED_MESSAGE, { retryAfterSeconds });
    if (retryAfterSeconds <= MAX_CACHED_RETRY_AFTER) rateLimitedErrors.set(retryAfterSeconds, error);
  }
  return error;
}

const QUERY_SECRET_ERROR = new GatewayError(
  'invalid_request',
  'Send credentials in the Authorization or X-OpenClaw-Token header, never in the query string.',
);

/** What a request that needs authentication gets: its identity, or the error to answer with. */
export type Admission = Identity | GatewayError;

export type HttpAuth = Pick<AuthService, 'blockedOutcome' | 'authenticateNow'>;

/**
 * The HTTP admission order, for fastify's hook and the fast lane alike: a blocked client gets 429 before
 * anything else (correct credentials included), a secret in the query string 400, then the chain decides.
 * Synchronous unless the chain needs I/O.
 */
export function admitHttp(auth: HttpAuth, context: AuthContext, url: string | undefined): Admission | Promise<Admission> {
  const blocked = auth.blockedOutcome(context);
  if (blocked && !blocked.ok) return outcomeError(blocked);
  if (hasQuerySecret(url)) return QUERY_SECRET_ERROR;
  const outcome = auth.authenticateNow(context);
  return outcome instanceof Promise ? outcome.then(admissionOf) : admissionOf(outcome);
}

function admissionOf(outcome: AuthOutcome): Admission {
  return outcome.ok ? outcome.identity : outcomeError(outcome);
}

/** Lets the request through with its identity, or answers it (then the hook chain ends without done()). */
function admit(request: FastifyRequest, reply: FastifyReply, admission: Admission, done: HookHandlerDoneFunction): void {
  if (admission instanceof GatewayError) {
    sendError(reply, admission);
    return;
  }
  request.identity = admission;
  done();
}

/**
 * Authenticates every route that is not `config.public`, in onRequest (before any body is read). Unknown
 * routes answer 404 without authentication. Registered without encapsulation so that it covers routes
 * registered by sibling plugins.
 */
export function authPlugin(auth: AuthService) {
  const plugin = async function authentication(app: FastifyInstance): Promise<void> {
    app.decorateRequest('identity', null);
    app.decorateRequest('clientIp', '');
    // Callback style: a decision that needs no I/O (every success, every blocked client) costs no promise.
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const context = auth.contextFor(request.raw, 'http');
      request.clientIp = context.clientIp;
      if (request.is404) return done();
      // Public routes need no credentials, but a secret in their URL is refused all the same: the
      // WebSocket upgrade on GET / is where clients most often try `?token=`.
      if (request.routeOptions.config?.public === true) {
        if (hasQuerySecret(request.raw.url)) sendError(reply, QUERY_SECRET_ERROR);
        else done();
        return;
      }
      let admission: Admission | Promise<Admission>;
      try {
        admission = admitHttp(auth, context, request.raw.url);
      } catch (error) {
        return done(error as Error);
      }
      if (admission instanceof Promise) admission.then((settled) => admit(request, reply, settled, done), done);
      else admit(request, reply, admission, done);
    });
    app.addHook('onClose', async () => auth.close());
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
