import { WebSocket } from 'ws';
import type { ClientSettings } from '../config/index.js';
import { VERSION } from '../version.js';
import { CLIENT_OPTIONS, UsageError, parse } from './args.js';
import { resolveClient } from './gatewayClient.js';
import { EXIT, type CliIo } from './io.js';

export const logsHelp = `Usage: openclaw logs [-f] [-n N] [--url URL]
Prints the running gateway's recent log lines, one JSON object a line (default: all it keeps, at least 1,000).
  -f, --follow    keep printing new lines until interrupted
  -n, --lines N   only the last N lines
Connects over the WebSocket API to OPENCLAW_GATEWAY_URL (default http://127.0.0.1:18789) as a control
client, with OPENCLAW_GATEWAY_TOKEN when set, otherwise as a loopback client.`;

const LOGS_OPTIONS = {
  ...CLIENT_OPTIONS,
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
} as const;

const ANSWER_TIMEOUT_MS = 10_000;

interface RpcAnswer {
  id?: unknown;
  method?: string;
  params?: { line?: unknown };
  result?: { lines?: unknown };
  error?: { message?: string; data?: { type?: string } };
}

export async function logsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, LOGS_OPTIONS);
  if (values.help) {
    io.out(logsHelp);
    return EXIT.ok;
  }
  const lines = parseLineCount(values.lines);
  const client = resolveClient(values.url, values.config);
  return tailLogs(client, { lines, follow: values.follow === true }, io);
}

function parseLineCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`-n must be a whole number, got "${text}"`);
  return Number(text);
}

export function websocketUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http(s?):\/\//i, (_match, tls: string) => `ws${tls}://`)}/`;
}

/** connect as control, then logs.tail; with follow, print `logs.line` notifications until the socket ends. */
function tailLogs(client: ClientSettings, request: { lines: number | undefined; follow: boolean }, io: CliIo): Promise<number> {
  return new Promise<number>((resolve) => {
    const socket = new WebSocket(websocketUrl(client.url), { handshakeTimeout: ANSWER_TIMEOUT_MS });
    let settled = false;
    let tailed = false;
    const pendingLines: string[] = [];
    const finish = (code: number, message?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(answerTimer);
      if (message) io.err(message);
      socket.removeAllListeners('close');
      socket.on('error', () => {});
      socket.close();
      resolve(code);
    };
    const answerTimer = setTimeout(
      () => finish(EXIT.failure, `Gateway at ${client.url} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`),
      ANSWER_TIMEOUT_MS,
    );
    const send = (id: number, method: string, params: unknown) => socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));

    socket.on('open', () => {
      const auth = client.token ? { token: client.token } : {};
      send(1, 'connect', { role: 'control', auth, client: { name: 'openclaw-cli', version: VERSION } });
    });
    socket.on('error', (error) => finish(EXIT.failure, `Gateway not reachable at ${client.url}: ${describeSocketError(error)}`));
    socket.on('close', (code, reason) => {
      if (settled) return;
      finish(EXIT.failure, `Gateway at ${client.url} closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
    });
    socket.on('message', (data) => {
      let answer: RpcAnswer;
      try {
        answer = JSON.parse(data.toString()) as RpcAnswer;
      } catch {
        return;
      }
      if (answer.method === 'logs.line' && typeof answer.params?.line === 'string') {
        if (tailed) io.out(answer.params.line);
        else pendingLines.push(answer.params.line);
        return;
      }
      if (answer.error) {
        const hint = answer.error.data?.type === 'unauthorized' ? ' (set OPENCLAW_GATEWAY_TOKEN)' : '';
        finish(EXIT.failure, `Gateway at ${client.url} refused: ${answer.error.message ?? 'error'}${hint}`);
        return;
      }
      if (answer.id === 1) {
        const params: Record<string, unknown> = { follow: request.follow };
        if (request.lines !== undefined) params.lines = request.lines;
        send(2, 'logs.tail', params);
        return;
      }
      if (answer.id === 2) {
        tailed = true;
        const tail = Array.isArray(answer.result?.lines) ? (answer.result.lines as unknown[]) : [];
        for (const line of tail) if (typeof line === 'string') io.out(line);
        for (const line of pendingLines.splice(0)) io.out(line);
        if (!request.follow) finish(EXIT.ok);
        else clearTimeout(answerTimer);
      }
    });
  });
}

function describeSocketError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${error.message})`;
  if (code === 'ECONNRESET') return 'connection reset';
  return error.message;
}
