// A JSON-RPC 2.0 client over the `ws` package for tests of the WebSocket API: requests with
// automatic ids, every notification recorded, and the close code/reason as a promise.
import { WebSocket, type ClientOptions } from 'ws';

export interface RpcErrorBody {
  code: number;
  message: string;
  data: { type: string; retryAfter?: number };
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: RpcErrorBody;
}

export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params: unknown;
}

export interface Closed {
  code: number;
  reason: string;
}

export interface RpcClient {
  readonly socket: WebSocket;
  /** Every frame received, parsed, in order. */
  readonly frames: unknown[];
  readonly notifications: RpcNotification[];
  /** Sends a request with the next numeric id and resolves with the whole response frame. */
  call(method: string, params?: unknown, timeoutMs?: number): Promise<RpcResponse>;
  /** Sends a raw text (or binary) frame; answers carrying `id` resolve `waitForResponse(id)`. */
  send(frame: string | Buffer): void;
  waitForResponse(id: string | number | null, timeoutMs?: number): Promise<RpcResponse>;
  waitForNotification(method: string, predicate?: (params: unknown) => boolean, timeoutMs?: number): Promise<RpcNotification>;
  readonly closed: Promise<Closed>;
  close(): void;
}

function isResponseTo(frame: unknown, id: string | number | null): frame is RpcResponse {
  const candidate = frame as RpcResponse;
  return candidate.id === id && ('result' in candidate || 'error' in candidate);
}

/** Opens a WebSocket (no `connect` sent yet). */
export function openRpc(url: string, options: ClientOptions = {}): Promise<RpcClient> {
  const socket = new WebSocket(url, options);
  socket.on('error', () => {}); // surfaced through `closed` and the open promise
  const frames: unknown[] = [];
  const notifications: RpcNotification[] = [];
  const waiters = new Set<() => void>();
  let nextId = 1;
  const closed = new Promise<Closed>((resolve) =>
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters) wake();
    }),
  );
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    frames.push(frame);
    if (frame.method !== undefined && frame.id === undefined) notifications.push(frame as unknown as RpcNotification);
    for (const wake of waiters) wake();
  });
  const waitFor = <T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (socket.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed while waiting for ${what}; frames: ${JSON.stringify(frames).slice(0, 2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames).slice(0, 2000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const client: RpcClient = {
    socket,
    frames,
    notifications,
    call(method, params, timeoutMs = 10_000) {
      const id = nextId++;
      const request: Record<string, unknown> = { jsonrpc: '2.0', id, method };
      if (params !== undefined) request.params = params;
      const from = frames.length; // raw frames sent earlier may have used the same id
      socket.send(JSON.stringify(request));
      return waitFor(() => frames.slice(from).find((f) => isResponseTo(f, id)), `the response to ${method} (id ${id})`, timeoutMs);
    },
    send: (frame) => socket.send(frame),
    waitForResponse: (id, timeoutMs = 10_000) =>
      waitFor(
        () => frames.find((f) => isResponseTo(f, id)),
        `the response to id ${String(id)}`,
        timeoutMs,
      ),
    waitForNotification: (method, predicate = () => true, timeoutMs = 10_000) =>
      waitFor(() => notifications.find((n) => n.method === method && predicate(n.params)), `notification ${method}`, timeoutMs),
    closed,
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
  });
}

/** Opens a WebSocket and sends `connect`; throws unless it succeeds. */
export async function connectRpc(url: string, params: Record<string, unknown>, options: ClientOptions = {}): Promise<{ client: RpcClient; result: Record<string, unknown> }> {
  const client = await openRpc(url, options);
  const response = await client.call('connect', params);
  if (!response.result) throw new Error(`connect failed: ${JSON.stringify(response.error)}`);
  return { client, result: response.result as Record<string, unknown> };
}
