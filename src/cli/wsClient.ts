import { WebSocket } from 'ws';
import type { ClientSettings } from '../config/index.js';
import { VERSION } from '../version.js';
import { GatewayUnreachableError, describeFetchError } from './gatewayClient.js';

/** A JSON-RPC error answered by the gateway (code, `data.type`, message). */
export class GatewayRpcError extends Error {
  readonly code: number;
  readonly type: string;
  constructor(code: number, type: string, message: string) {
    super(message);
    this.code = code;
    this.type = type;
  }
}

interface PendingCall {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** `http://host:port` → `ws://host:port/` (https → wss). */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`unsupported gateway URL scheme ${url.protocol}`);
  url.pathname = '/';
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * The client commands' JSON-RPC session: connects as `control` with OPENCLAW_GATEWAY_TOKEN (or as a
 * loopback client without one) and runs one call at a time.
 */
export class GatewayRpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private closedReason: string | undefined;

  private constructor(
    private readonly socket: WebSocket,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    socket.on('message', (data) => this.receive(data.toString()));
    socket.on('close', (code, reason) => {
      this.closedReason = `connection closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`;
      for (const [id, call] of this.pending) {
        clearTimeout(call.timer);
        call.reject(new Error(`Gateway at ${this.url}: ${this.closedReason}`));
        this.pending.delete(id);
      }
    });
  }

  /** Opens the socket and sends `connect`; unreachable → GatewayUnreachableError, refused → GatewayRpcError. */
  static async connect(client: ClientSettings, options: { role?: string; timeoutMs?: number } = {}): Promise<GatewayRpcClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const url = webSocketUrl(client.url);
    const socket = await open(url, client.url, timeoutMs);
    const session = new GatewayRpcClient(socket, client.url, timeoutMs);
    try {
      await session.call('connect', {
        role: options.role ?? 'control',
        ...(client.token ? { auth: { token: client.token } } : {}),
        client: { name: 'openclaw-cli', version: VERSION },
      });
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  call(method: string, params: unknown = {}): Promise<unknown> {
    if (this.closedReason !== undefined) return Promise.reject(new Error(`Gateway at ${this.url}: ${this.closedReason}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Gateway at ${this.url} did not answer ${method} within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000);
  }

  private receive(text: string): void {
    let frame: { id?: unknown; result?: unknown; error?: { code?: number; message?: string; data?: { type?: string } } };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame.id !== 'number') return; // notifications are not for one-shot commands
    const call = this.pending.get(frame.id);
    if (!call) return;
    this.pending.delete(frame.id);
    clearTimeout(call.timer);
    if (frame.error) {
      const { code = 0, message = 'error', data } = frame.error;
      call.reject(new GatewayRpcError(code, data?.type ?? 'error', message));
    } else {
      call.resolve(frame.result);
    }
  }
}

function open(url: string, displayUrl: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
    socket.once('open', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // surfaced through 'close'
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        const type = status === 401 ? 'unauthorized' : status === 429 ? 'rate_limited' : status === 403 ? 'forbidden' : 'error';
        reject(new GatewayRpcError(status, type, `HTTP ${status} on WebSocket upgrade${describeBody(body)}`));
      });
      socket.on('error', () => {});
      response.resume();
    });
    socket.once('error', (error) => {
      reject(new GatewayUnreachableError(`Gateway not reachable at ${displayUrl}: ${describeFetchError(error)}`));
    });
  });
}

function describeBody(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? `: ${message}` : '';
  } catch {
    return '';
  }
}
