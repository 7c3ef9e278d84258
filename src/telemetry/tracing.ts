import { register } from 'node:module';
import type { FastifyOtelInstrumentation } from '@fastify/otel';
import { trace } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { PRODUCT_NAME, VERSION } from '../version.js';
import { leanSpanSetupFor } from './LeanSpan.js';
import { envString } from './otelEnv.js';
import { sampleRootsWith } from './spans.js';
import { useSyncScopes } from './syncScopes.js';

/**
 * The OpenTelemetry bootstrap. Configured by the standard OTEL_* variables only (endpoint, protocol,
 * sampler, batch delays, resource attributes), read by the SDK itself; off unless an OTLP endpoint is set.
 * It must run before the gateway's modules are imported, so that ioredis is loaded already instrumented:
 * the CLI awaits startTracing() and only then imports Gateway.
 */
export interface TracingOptions {
  /** The process environment (from config/env.ts, the one place that reads it). */
  readonly env: NodeJS.ProcessEnv;
  /** service.instance.id: the replica id every log line carries. */
  readonly replicaId: string;
  readonly version: string;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes the span exporter; safe to call more than once. */
  shutdown(): Promise<void>;
}

/** Kubernetes Downward API variables the chart may set; each becomes the resource attribute beside it. */
export const K8S_RESOURCE_ENV: Readonly<Record<string, string>> = {
  K8S_POD_NAME: 'k8s.pod.name',
  K8S_NAMESPACE_NAME: 'k8s.namespace.name',
  K8S_NODE_NAME: 'k8s.node.name',
};

const SERVICE_NAME = 'openclaw-gateway';
/** Probe routes are hit every few seconds by kubelet; tracing them only buries the real requests. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz']);
const DISABLED: Tracing = { enabled: false, shutdown: async () => {} };

let fastifyInstrumentation: FastifyOtelInstrumentation | undefined;

export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (envString(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return false;
  return Boolean(envString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? envString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'));
}

export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (!tracingConfigured(options.env)) return DISABLED;
  // The gateway is ESM: `import 'ioredis'` bypasses require(), so the ioredis instrumentation needs the
  // import-in-the-middle loader, limited to the one package it patches.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['ioredis'] } });
  const [
    { NodeSDK, resources },
    fastifyOtel,
    { IORedisInstrumentation },
    { UndiciInstrumentation },
    { otlpProtobufSpanProcessor },
    { rootSamplingFromEnv },
    { SyncScopeContextManager },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@fastify/otel'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-undici'),
    import('./otlp/otlpSpanExport.js'),
    import('./rootSampling.js'),
    import('./SyncScopeContextManager.js'),
  ]);
  const rootSampling = rootSamplingFromEnv(options.env);
  const contextManager = new SyncScopeContextManager();
  // The default export (OTLP/HTTP protobuf) encodes spans as they end; any other the SDK builds from OTEL_*.
  const spanProcessor = otlpProtobufSpanProcessor(options.env);
  const instrumentation = new fastifyOtel.default.FastifyOtelInstrumentation({
    instrumentHooks: false,
    ignorePaths: (route: { url: string }) => UNTRACED_PATHS.has(pathOf(route.url)),
    requestHook: (span, request: FastifyRequest) => {
      if (!span.isRecording()) return;
      const route = request.routeOptions.url;
      span.updateName(route ? `${request.method} ${route}` : request.method);
      // @fastify/otel records the raw URL; a query string may carry a secret (`?token=`), so keep the path only.
      span.setAttribute('url.path', pathOf(request.url));
    },
  });
  const sdk: NodeSDK = new NodeSDK({
    autoDetectResources: false,
    resource: gatewayResource(resources, options),
    // Traces only: metrics are Prometheus (prom-client), logs are pino on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    ...(spanProcessor ? { spanProcessors: [spanProcessor] } : {}),
    contextManager,
    sampler: rootSampling.sampler,
    idGenerator: rootSampling.ids,
    instrumentations: [
      instrumentation,
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: commandOnly }),
      new UndiciInstrumentation({
        requireParentforSpans: true,
        requestHook: (_span, request) => dropForwardedTraceContext(request as { headers?: unknown }),
      }),
    ],
  });
  sdk.start();
  fastifyInstrumentation = instrumentation;
  // The fast lane's own spans skip the SDK's span machinery when the SDK would add nothing to them: the
  // default export (our processor is the only one) and default span limits (LeanSpan).
  const lean = spanProcessor && leanSpanSetupFor(trace.getTracer(PRODUCT_NAME, VERSION), spanProcessor, () => rootSampling.ids.generateSpanId());
  sampleRootsWith(rootSampling, lean);
  useSyncScopes(contextManager);
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => {
      stopping ??= sdk.shutdown().finally(() => {
        fastifyInstrumentation = undefined;
        sampleRootsWith(undefined);
        useSyncScopes(undefined);
      });
      return stopping;
    },
  };
}

/**
 * @fastify/otel's plugin (HTTP server spans, parent taken from an incoming traceparent), or a no-op when
 * tracing is off. Register it before any route or auth hook so they run inside the request span.
 */
export function fastifyTracingPlugin() {
  const instrumentation = fastifyInstrumentation;
  const plugin = async function tracing(app: FastifyInstance): Promise<void> {
    if (!instrumentation) return;
    app.addHook('onRoute', withoutBodylessHandlerSpan);
    await app.register(instrumentation.plugin());
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/**
 * A route without a request body runs its handler in the request span's context anyway (the hook chain
 * never leaves it), so the extra `handler` span would only cost a span per request. Routes with a body
 * keep it: body parsing resumes on socket events, and the handler span restores the request context for
 * what the handler calls (the upstream request, Redis).
 */
function withoutBodylessHandlerSpan(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (!methods.every((method) => BODYLESS_METHODS.has(method))) return;
  const config = (route.config ?? {}) as { otel?: unknown };
  if (config.otel !== undefined) return;
  route.config = { ...config, otel: { instrumentHandler: false } } as RouteOptions['config'];
}

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type ResourcesModule = typeof import('@opentelemetry/sdk-node')['resources'];

/** Ours first, then OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME over it; the replica id always wins. */
function gatewayResource(resources: ResourcesModule, options: TracingOptions) {
  const base: Record<string, string> = { 'service.name': SERVICE_NAME, 'service.version': options.version };
  for (const [variable, attribute] of Object.entries(K8S_RESOURCE_ENV)) {
    const value = envString(options.env, variable);
    if (value) base[attribute] = value;
  }
  return resources
    .defaultResource()
    .merge(resources.resourceFromAttributes(base))
    .merge(resources.detectResources({ detectors: [resources.hostDetector, resources.processDetector, resources.envDetector] }))
    .merge(resources.resourceFromAttributes({ 'service.instance.id': options.replicaId }));
}

/** Redis arguments may be token hashes, pairing ids or AUTH passwords: record the command and arity only. */
function commandOnly(command: string, args: unknown[]): string {
  return args.length > 0 ? `${command} [${args.length} args]` : command;
}

/**
 * The upstream client forwards the caller's traceparent when tracing is off; with tracing on, the span of
 * this request (already a child of the caller's context) is what goes upstream, injected after this hook.
 */
function dropForwardedTraceContext(request: { headers?: unknown }): void {
  const { headers } = request;
  if (!Array.isArray(headers)) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = String(headers[i]).toLowerCase();
    if (name === 'traceparent' || name === 'tracestate') headers.splice(i, 2);
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
