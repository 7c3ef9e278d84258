import type { IncomingHttpHeaders } from 'node:http';
import {
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Sampler,
  type Span,
} from '@opentelemetry/api';
import type { AuthContext, AuthOutcome } from '../auth/types.js';
import { PRODUCT_NAME, VERSION } from '../version.js';
import { LeanSpan, type LeanSpanSetup } from './LeanSpan.js';
import { LIGHT_ROOT } from './LightContext.js';
import { runAcrossAwaits, runSynchronously } from './syncScopes.js';

/**
 * The gateway's own spans. With tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) the global tracer is the no-op
 * one, so these cost a function call. Attribute values must never hold a secret: callers pass methods,
 * results, roles and addresses only.
 */
const tracer = trace.getTracer(PRODUCT_NAME, VERSION);
/** What the API's global provider delegates to until an SDK registers one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NON_RECORDING_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The span a hot path may skip creating: with no SDK registered (tracing off) or inside an unsampled trace
 * (parent-based sampling never samples its children), a new span would record nothing, so callers run
 * their work directly instead of paying for a span object and a context switch. Undefined when a real
 * span is needed.
 */
function skippableSpan(): Span | undefined {
  if (unsampledRequest) return unsampledRequest;
  const parent = trace.getActiveSpan();
  if (parent) return parent.isRecording() ? undefined : parent;
  return tracingOff() ? NON_RECORDING_SPAN : undefined;
}

function tracingOff(): boolean {
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  return provider.getDelegate?.() === NOOP_TRACER_PROVIDER;
}

/**
 * The non-recording SERVER span of the unsampled request whose synchronous part is running now (see
 * runInRequestSpan), so that the spans it would start (`auth`) are skipped without a context switch.
 */
let unsampledRequest: Span | undefined;

/**
 * A SERVER span and, when it records, the context to run the request in (the span active, the caller's
 * trace as parent). An unsampled span has no context: nothing under it would be recorded.
 */
export interface RequestSpan {
  readonly span: Span;
  readonly context: Context | undefined;
}

/**
 * The SERVER span of a request the HTTP fast lane answers outside fastify: the span @fastify/otel makes for
 * fastify's routes (named `<METHOD> <route>`, with http.request.method, url.path and http.route; parent
 * from an incoming traceparent). Undefined when tracing is off. Sampling is the SDK's sampler's; for a request
 * without a traceparent it is asked before any span is made (startRootSpan).
 */
export function startRequestSpan(method: string, route: string, headers: IncomingHttpHeaders): RequestSpan | undefined {
  if (tracingOff()) return undefined;
  if (carriesTraceContext(headers)) return startSpanIn(propagation.extract(LIGHT_ROOT, headers), method, route);
  return rootSampling ? startRootSpan(rootSampling, method, route) : startSpanIn(LIGHT_ROOT, method, route);
}

function startSpanIn(parent: Context, method: string, route: string): RequestSpan {
  const attributes = requestAttributes(method, route);
  const lean = leanSpans && startLeanChild(leanSpans, parent, `${method} ${route}`, attributes);
  if (lean) return lean;
  const span = tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: span.isRecording() ? trace.setSpan(parent, span) : undefined };
}

/** The SERVER span's attributes at its start, as @fastify/otel sets them for fastify's routes. */
function requestAttributes(method: string, route: string): Attributes {
  return { 'http.request.method': method, 'url.path': route, 'http.route': route };
}

/**
 * The SERVER span of a request that continues a caller's sampled trace, as a LeanSpan; undefined when the
 * SDK's span is needed (no valid parent, not sampled, or a sampler that adds a trace state or attributes).
 */
function startLeanChild(setup: LeanSpanSetup, parent: Context, name: string, attributes: Attributes): RequestSpan | undefined {
  const parentSpanContext = trace.getSpanContext(parent);
  if (!rootSampling || !parentSpanContext || !trace.isSpanContextValid(parentSpanContext)) return undefined;
  const { traceId } = parentSpanContext;
  const decision = rootSampling.sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, attributes, []);
  if (decision.decision !== SamplingDecision.RECORD_AND_SAMPLED || decision.traceState || decision.attributes) return undefined;
  const span = new LeanSpan(setup, name, SpanKind.SERVER, traceId, parentSpanContext, attributes);
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * A request that starts a trace: the sampler's decision comes first, from a trace id drawn as the SDK's
 * generator draws them (RootSampling.drawRoot), and a dropped request gets no span at all (the SDK's
 * startSpan would make both ids, sanitize the attributes, ask the sampler and wrap a span context: ≈ 10
 * thousand instructions of a request that records nothing). A kept one is started by the SDK with that same
 * trace id, which its sampler keeps again.
 */
function startRootSpan(root: RootSampling, method: string, route: string): RequestSpan {
  const traceId = root.drawRoot();
  if (traceId === undefined) return UNSAMPLED_ROOT;
  if (leanSpans) {
    const span = new LeanSpan(leanSpans, `${method} ${route}`, SpanKind.SERVER, traceId, undefined, requestAttributes(method, route));
    return { span, context: trace.setSpan(LIGHT_ROOT, span) };
  }
  root.ids.useNext(traceId);
  try {
    return startSpanIn(LIGHT_ROOT, method, route);
  } finally {
    root.ids.useNext(undefined);
  }
}

/** The root decision and id hand-over of the sampler and id generator the SDK was given (telemetry/rootSampling.ts). */
export interface RootSampling {
  /** A new trace id when the sampler keeps a request without a parent; undefined when it drops it. */
  drawRoot(): string | undefined;
  readonly ids: { useNext(traceId: string | undefined): void };
  readonly sampler: Sampler;
}

let rootSampling: RootSampling | undefined;
/** Set when the hot path's spans can be LeanSpans (telemetry/tracing.ts decides). */
let leanSpans: LeanSpanSetup | undefined;

export function sampleRootsWith(sampling: RootSampling | undefined, lean?: LeanSpanSetup): void {
  rootSampling = sampling;
  leanSpans = sampling && lean;
}

const UNSAMPLED_ROOT: RequestSpan = Object.freeze({ span: NON_RECORDING_SPAN, context: undefined });

/**
 * Runs fn in the request's span. A recording span is the active context while fn runs (a synchronous
 * scope: fn's awaits do not carry it, see bindToActiveSpan). An unsampled request skips the context switch:
 * spans started while fn runs (the lane's `auth`) are skipped through a marker, and whatever fn starts after
 * an await finds no active span, so the ioredis and undici instrumentations (parent required) record nothing.
 */
export function runInRequestSpan<A extends unknown[], This>(request: RequestSpan, fn: (this: This, ...args: A) => void, thisArg: This, ...args: A): void {
  if (request.context) return runSynchronously(request.context, fn, thisArg, ...args);
  const outer = unsampledRequest;
  unsampledRequest = request.span;
  try {
    fn.apply(thisArg, args);
  } finally {
    unsampledRequest = outer;
  }
}

/**
 * fn, bound to the active context when a recording span is active: for a continuation (`.then`, a callback)
 * of code that may run in a synchronous scope (the fast lane's authentication), so that its spans, events
 * and Redis commands still find their parent. Unbound otherwise: nothing would be recorded under it.
 */
export function bindToActiveSpan<F extends (...args: never[]) => unknown>(fn: F): F {
  const active = recordingContext();
  return active ? otelContext.bind(active, fn) : fn;
}

/**
 * Starts asynchronous work (a store lookup) under the active span, from a synchronous scope too: its
 * Redis commands after the first await still find their parent.
 */
export function startUnderActiveSpan<T>(fn: () => T): T {
  const active = recordingContext();
  return active ? runAcrossAwaits(active, fn) : fn();
}

/** The active context when a recording span is active in it. */
function recordingContext(): Context | undefined {
  if (unsampledRequest) return undefined;
  const active = otelContext.active();
  return trace.getSpan(active)?.isRecording() ? active : undefined;
}

/**
 * The headers the propagators read, taken once: the SDK sets its propagator before the first request
 * (telemetry/tracing.ts), and `propagation.fields()` copies its list on every call.
 */
let propagationFields: readonly string[] | undefined;

/** Extraction finds nothing without one of the propagators' headers: skip the propagator chain then. */
function carriesTraceContext(headers: IncomingHttpHeaders): boolean {
  propagationFields ??= propagation.fields();
  for (const field of propagationFields) if (headers[field] !== undefined) return true;
  return false;
}

export function endRequestSpan(span: Span, statusCode: number, error?: unknown): void {
  span.setAttribute('http.response.status_code', statusCode);
  if (error !== undefined) failSpan(span, error);
  else if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * Runs fn inside a new active span (child of the current one); ends it when fn returns or settles. Within
 * an unsampled trace fn gets the current non-recording span instead (so its attributes go nowhere).
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  // Most of what tracing costs per request at a 0.1 ratio, and all it costs when off.
  const skipped = skippableSpan();
  if (skipped) return fn(skipped);
  return startActiveSpan(name, attributes, (span) => {
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

/** A child of the active span, active while fn runs: a LeanSpan under a LeanSpan, the SDK's span otherwise. */
function startActiveSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  const parent = trace.getActiveSpan();
  if (!(parent instanceof LeanSpan)) return tracer.startActiveSpan(name, { attributes }, fn);
  const span = parent.child(name, SpanKind.INTERNAL, attributes);
  return otelContext.with(trace.setSpan(otelContext.active(), span), fn, undefined, span);
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
export function traceAuth(
  context: Pick<AuthContext, 'clientIp' | 'transport'>,
  run: () => AuthOutcome | Promise<AuthOutcome>,
): AuthOutcome | Promise<AuthOutcome> {
  // Synchronous decisions stay synchronous, and nothing is built for a span that records nothing.
  if (skippableSpan()) return run();
  const attributes = { 'client.address': context.clientIp, 'openclaw.auth.transport': context.transport };
  return withSpan('auth', attributes, (span) => {
    const outcome = run();
    if (!(outcome instanceof Promise)) {
      span.setAttributes(authOutcomeAttributes(outcome));
      return outcome;
    }
    return outcome.then((settled) => {
      span.setAttributes(authOutcomeAttributes(settled));
      return settled;
    });
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
