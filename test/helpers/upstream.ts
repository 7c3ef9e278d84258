// A small OpenAI-compatible server (node:http) standing in for gateway.upstream: answers
// POST /v1/chat/completions (JSON or SSE) and GET /v1/models, records what it was sent, and can be
// told to be slow, fail, or hold a stream open; it counts requests whose client went away.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: Record<string, unknown> | undefined;
}

/** How the upstream answers one request; tests queue these with `next()`, the default is a plain answer. */
export interface UpstreamBehaviour {
  /** Wait this long before sending the response headers. */
  delayMs?: number;
  /** Answer with this status and `errorBody` (JSON) instead of a completion. */
  status?: number;
  errorBody?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Send this text with status 200 and content-type application/json (e.g. not JSON at all). */
  rawJson?: string;
  /** Streaming: the content pieces, one SSE chunk each (default: ['Hel', 'lo', ' world']). */
  pieces?: string[];
  /** Streaming: pause between chunks. */
  chunkDelayMs?: number;
  /** Streaming: after the first chunk, wait until release() is called. */
  holdAfterFirstChunk?: boolean;
  /** Streaming: leave out the final `data: [DONE]`. */
  omitDone?: boolean;
  /** Destroy the socket without answering. */
  destroy?: boolean;
}

export interface TestUpstream {
  /** Base URL including /v1, as gateway.upstream.url expects. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Requests whose client closed the connection before the response was complete. */
  readonly aborted: number;
  /** Queue a behaviour for the next chat request (FIFO). */
  next(behaviour: UpstreamBehaviour): void;
  /** Let held streams continue. */
  release(): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  waitForAborted(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_PIECES = ['Hel', 'lo', ' world'];

export async function startUpstream(): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const queued: UpstreamBehaviour[] = [];
  const waiters = new Set<() => void>();
  let aborted = 0;
  let releaseHeld: () => void = () => {};
  let held = new Promise<void>((resolve) => (releaseHeld = resolve));
  const wake = () => waiters.forEach((check) => check());

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch(() => response.destroy());
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | undefined;
    try {
      body = rawBody ? (JSON.parse(rawBody) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, rawBody, body });
    response.on('close', () => {
      if (!response.writableFinished) {
        aborted++;
        wake();
      }
    });
    wake();

    if (request.method === 'GET' && request.url === '/v1/models') {
      return json(response, 200, { object: 'list', data: [{ id: 'secret-upstream-model', object: 'model' }] });
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      return json(response, 404, { error: { message: 'no such route', type: 'not_found' } });
    }
    const behaviour = queued.shift() ?? {};
    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (response.destroyed) return;
    if (behaviour.destroy) {
      response.socket?.destroy();
      return;
    }
    for (const [name, value] of Object.entries(behaviour.headers ?? {})) response.setHeader(name, value);
    if (behaviour.status) return json(response, behaviour.status, behaviour.errorBody ?? { error: { message: 'failed' } });
    if (behaviour.rawJson !== undefined) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(behaviour.rawJson);
      return;
    }
    const model = typeof body?.model === 'string' ? body.model : 'unknown';
    if (body?.stream === true) return stream(response, model, behaviour);
    const messages = Array.isArray(body?.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
    const last = messages.at(-1)?.content;
    return json(response, 200, {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${String(last)}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  }

  async function stream(response: ServerResponse, model: string, behaviour: UpstreamBehaviour): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({
        id: 'chatcmpl-test',
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;
    const pieces = behaviour.pieces ?? DEFAULT_PIECES;
    for (const [index, piece] of pieces.entries()) {
      if (response.destroyed) return;
      response.write(chunk(index === 0 ? { role: 'assistant', content: piece } : { content: piece }, null));
      if (index === 0 && behaviour.holdAfterFirstChunk) await Promise.race([held, closed(response)]);
      if (behaviour.chunkDelayMs) await sleep(behaviour.chunkDelayMs);
    }
    if (response.destroyed) return;
    response.write(chunk({}, 'stop'));
    response.end(behaviour.omitDone ? undefined : 'data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const waitFor = (done: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`test upstream: timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    get aborted() {
      return aborted;
    },
    next: (behaviour) => queued.push(behaviour),
    release: () => {
      releaseHeld();
      held = new Promise<void>((resolve) => (releaseHeld = resolve));
    },
    waitForRequests: async (count, timeoutMs = 5_000) => {
      await waitFor(() => requests.length >= count, `${count} requests`, timeoutMs);
      return requests;
    },
    waitForAborted: (count, timeoutMs = 5_000) => waitFor(() => aborted >= count, `${count} aborted requests`, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        releaseHeld();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function closed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => response.once('close', () => resolve()));
}
