import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { AuthContext, AuthOutcome } from '../auth/types.js';
import { PRODUCT_NAME, VERSION } from '../version.js';

/**
 * The gateway's own spans. With tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) the global tracer is the no-op
 * one, so these cost a function call. Attribute values must never hold a secret: callers pass methods,
 * results, roles and addresses only.
 */
const tracer = trace.getTracer(PRODUCT_NAME, VERSION);

/**
 * Runs fn inside a new active span (child of the current one); ends it when fn returns or settles. Within
 * an unsampled trace fn gets the current non-recording span instead (so its attributes go nowhere).
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  // Inside an unsampled trace a child is never sampled (parent-based sampling): skip creating it and
  // switching context, which is most of what tracing costs per request at a 0.1 ratio.
  const parent = trace.getActiveSpan();
  if (parent && !parent.isRecording()) return fn(parent);
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      failSpan(span, error);
      span.end();
      throw error;
    }
    if (isThenable(result)) {
      return result.then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          failSpan(span, error);
          span.end();
          throw error;
        },
      ) as T;
    }
    span.end();
    return result;
  });
}

/** An event on the current span (rate-limit decisions, pairing steps); nothing when no span is active. */
export function addEvent(name: string, attributes?: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

export function setSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/**
 * The `auth` span around one authentication decision: client.address and the transport up front,
 * openclaw.auth.method / openclaw.auth.result from the outcome. Rate-limit decisions inside it are events
 * (`openclaw.ratelimit.*`, added by the auth service with addEvent).
 */
export function traceAuth(context: Pick<AuthContext, 'clientIp' | 'transport'>, run: () => Promise<AuthOutcome>): Promise<AuthOutcome> {
  const attributes = { 'client.address': context.clientIp, 'openclaw.auth.transport': context.transport };
  return withSpan('auth', attributes, async (span) => {
    const outcome = await run();
    span.setAttributes(authOutcomeAttributes(outcome));
    return outcome;
  });
}

/** `ws.connect` around the JSON-RPC connect of one WebSocket session; its `auth` span is a child. */
export function traceWsConnect<T>(clientIp: string, run: () => Promise<T>): Promise<T> {
  return withSpan('ws.connect', { 'client.address': clientIp, 'rpc.system': 'jsonrpc', 'rpc.method': 'connect' }, run);
}

/** `rpc <method>` around one JSON-RPC call. Method names come from clients: anything unlike one is `rpc unknown`. */
export function traceRpc<T>(method: string, run: () => Promise<T>): Promise<T> {
  const name = RPC_METHOD_NAME.test(method) ? method : 'unknown';
  return withSpan(`rpc ${name}`, { 'rpc.system': 'jsonrpc', 'rpc.method': name }, run);
}

const RPC_METHOD_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

export function authOutcomeAttributes(outcome: AuthOutcome): Attributes {
  if (outcome.ok) return { 'openclaw.auth.method': outcome.identity.method, 'openclaw.auth.result': 'success' };
  return { 'openclaw.auth.method': 'none', 'openclaw.auth.result': outcome.type === 'unauthorized' ? 'failure' : outcome.type };
}

function failSpan(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  if (error instanceof Error) span.recordException(error);
}

function isThenable<T>(value: T): value is T & Promise<Awaited<T>> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
