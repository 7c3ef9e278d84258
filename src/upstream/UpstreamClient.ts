import type { Dispatcher, Pool } from 'undici';
import type { GatewayConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { PRODUCT_NAME, VERSION } from '../version.js';
import { upstreamChatBody, type ChatCompletionRequest } from './chatRequest.js';
import type { TraceContext } from './traceContext.js';
import { UpstreamAbortReason, isCallerGone, transportError, upstreamStatusError } from './upstreamErrors.js';

export type UpstreamSettings = GatewayConfig['upstream'];

export interface UpstreamCallOptions {
  /** Aborted when the caller (HTTP client, WebSocket session) goes away: the upstream request is cancelled. */
  readonly signal?: AbortSignal;
  readonly trace?: TraceContext;
}

/** A non-streaming answer, already checked to be a JSON object; `json` is the upstream's text, relayed as is. */
export interface UpstreamCompletion {
  readonly json: string;
  readonly value: Record<string, unknown>;
}

/** An open SSE response; iterate `chunks` to relay it. Iteration throws a GatewayError on a mid-stream failure. */
export interface UpstreamEventStream {
  readonly chunks: AsyncIterable<Uint8Array>;
}

/** Upper bounds for what one upstream exchange may hold in memory or open. */
export const UPSTREAM_LIMITS = {
  maxConnections: 256,
  maxResponseBytes: 16 * 1024 * 1024,
  maxErrorBodyBytes: 64 * 1024,
  maxConnectTimeoutMs: 10_000,
} as const;

const NOT_CONFIGURED_MESSAGE =
  'No upstream is configured: set gateway.upstream.url (env OPENCLAW_UPSTREAM_URL) to an OpenAI-compatible base URL including /v1, e.g. http://127.0.0.1:8000/v1.';

/**
 * The gateway's one connection pool to gateway.upstream (an OpenAI-compatible server). Only the body, the
 * gateway's own upstream API key and the caller's trace context go upstream: never a client credential.
 */
export class UpstreamClient {
  /** undici (≈ 1 MB of modules) is loaded and the pool built on the first request, not at start. */
  private pool: Promise<Pool> | undefined;
  private readonly origin: string | undefined;
  private readonly completionsPath: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly settings: UpstreamSettings,
    private readonly logger: Logger,
  ) {
    this.timeoutMs = settings.timeoutSeconds * 1000;
    if (settings.url === '') {
      this.completionsPath = '';
      return;
    }
    const base = new URL(settings.url);
    this.origin = base.origin;
    this.completionsPath = `${base.pathname.replace(/\/+$/, '')}/chat/completions`;
  }

  get configured(): boolean {
    return this.origin !== undefined;
  }

  /** The pool of the configured upstream, created once; keep-alive reuses its sockets across requests. */
  private connectionPool(origin: string): Promise<Pool> {
    this.pool ??= import('undici').then(
      ({ Pool }) =>
        new Pool(origin, {
          connections: UPSTREAM_LIMITS.maxConnections,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          connectTimeout: Math.min(this.timeoutMs || UPSTREAM_LIMITS.maxConnectTimeoutMs, UPSTREAM_LIMITS.maxConnectTimeoutMs),
        }),
    );
    return this.pool;
  }

  /** POST /chat/completions without streaming; the whole exchange is bounded by gateway.upstream.timeoutSeconds. */
  async complete(request: ChatCompletionRequest, options: UpstreamCallOptions = {}): Promise<UpstreamCompletion> {
    const call = this.startCall(options.signal);
    try {
      const response = await this.send({ ...request, stream: false }, 'application/json', options.trace, call.signal);
      const text = await readText(response.body, UPSTREAM_LIMITS.maxResponseBytes);
      if (text === undefined) throw new GatewayError('upstream_error', 'The upstream answer is too large.');
      const value = parseObject(text);
      if (!value) throw new GatewayError('upstream_error', 'The upstream answered with invalid JSON.');
      return { json: text, value };
    } catch (error) {
      throw this.failure(error, call.signal);
    } finally {
      call.done();
    }
  }

  /**
   * POST /chat/completions with `stream: true`. Resolves once the upstream answered 2xx with an event stream
   * (errors before that are thrown as GatewayError, so the caller can still answer with a status code);
   * afterwards gateway.upstream.timeoutSeconds bounds the silence between two chunks.
   */
  async openStream(request: ChatCompletionRequest, options: UpstreamCallOptions = {}): Promise<UpstreamEventStream> {
    const call = this.startCall(options.signal);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.send({ ...request, stream: true }, 'text/event-stream', options.trace, call.signal);
      const contentType = String(response.headers['content-type'] ?? '');
      if (!contentType.startsWith('text/event-stream')) {
        response.body.destroy();
        throw new GatewayError('upstream_error', 'The upstream did not answer with an event stream.');
      }
    } catch (error) {
      call.done();
      throw this.failure(error, call.signal);
    }
    call.stopTimer();
    const { body } = response;
    const failure = (error: unknown) => this.failure(error, call.signal);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of body) yield chunk as Uint8Array;
      } catch (error) {
        throw failure(error);
      } finally {
        call.done();
        if (!body.destroyed) body.destroy();
      }
    }
    return { chunks: chunks() };
  }

  async close(): Promise<void> {
    if (this.pool) await (await this.pool).close();
  }

  private async send(
    body: ChatCompletionRequest,
    accept: string,
    trace: TraceContext | undefined,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    if (this.origin === undefined) throw new GatewayError('upstream_unavailable', NOT_CONFIGURED_MESSAGE);
    const pool = await this.connectionPool(this.origin);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept,
      'user-agent': `${PRODUCT_NAME}/${VERSION}`,
    };
    if (this.settings.apiKey !== '') headers.authorization = `Bearer ${this.settings.apiKey}`;
    if (trace?.traceparent) headers.traceparent = trace.traceparent;
    if (trace?.tracestate) headers.tracestate = trace.tracestate;
    const response = await pool.request({
      path: this.completionsPath,
      method: 'POST',
      headers,
      body: JSON.stringify(upstreamChatBody(body, this.settings.model)),
      signal,
    });
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    const errorText = (await readText(response.body, UPSTREAM_LIMITS.maxErrorBodyBytes)) ?? '';
    const retryAfter = response.headers['retry-after'];
    throw upstreamStatusError(response.statusCode, errorText, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  }

  /** One controller per call: aborted by the caller going away or by the timeout, whichever comes first. */
  private startCall(callerSignal: AbortSignal | undefined) {
    const controller = new AbortController();
    const onCallerGone = () => controller.abort(new UpstreamAbortReason('caller-gone'));
    if (callerSignal?.aborted) onCallerGone();
    else callerSignal?.addEventListener('abort', onCallerGone, { once: true });
    let timer: NodeJS.Timeout | undefined;
    if (this.timeoutMs > 0) {
      timer = setTimeout(() => controller.abort(new UpstreamAbortReason('timeout')), this.timeoutMs);
    }
    const stopTimer = () => clearTimeout(timer);
    return {
      signal: controller.signal,
      stopTimer,
      done: () => {
        stopTimer();
        callerSignal?.removeEventListener('abort', onCallerGone);
      },
    };
  }

  private failure(error: unknown, signal: AbortSignal): GatewayError {
    const cause: unknown = signal.aborted ? signal.reason : error;
    const mapped = transportError(cause, this.settings.timeoutSeconds);
    if (isCallerGone(cause)) this.logger.debug('upstream request cancelled');
    else if (mapped.type !== 'upstream_unavailable') {
      this.logger.warn({ type: mapped.type, status: mapped.status, reason: mapped.message, code: codeOf(error) }, 'upstream request failed');
    }
    return mapped;
  }
}

/** The body as text, or undefined once it grows past maxBytes (the rest is discarded). */
async function readText(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > maxBytes) {
      body.destroy();
      return undefined;
    }
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
