// chat.completions over the WebSocket API: same body as HTTP, chat.delta notifications, cancellation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { DEFAULT_PIECES, startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { connectRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'chat-ws-token-0123456789abcdef0123456789abcdef';
const UPSTREAM_KEY = 'ws-upstream-key-0011223344';
const UPSTREAM_MODEL = 'ws-test-model';

let upstream: TestUpstream;
let gateway: GatewayProcess;
const clients: RpcClient[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
  gateway = await startGateway({
    env: {
      OPENCLAW_GATEWAY_TOKEN: TOKEN,
      OPENCLAW_UPSTREAM_URL: upstream.url,
      OPENCLAW_UPSTREAM_API_KEY: UPSTREAM_KEY,
      OPENCLAW_UPSTREAM_MODEL: UPSTREAM_MODEL,
    },
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  upstream?.release();
  await gateway?.stop();
  await upstream?.close();
});

async function session(role: 'webchat' | 'control'): Promise<RpcClient> {
  const { client } = await connectRpc(gateway.wsUrl, { role, auth: { token: TOKEN } });
  clients.push(client);
  return client;
}

const hello = { model: 'openclaw', messages: [{ role: 'user', content: 'Hello' }] };

interface Completion {
  object: string;
  model: string;
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string | null }>;
}

describe('chat.completions over WebSocket', () => {
  it('answers a webchat session with the upstream completion', async () => {
    const webchat = await session('webchat');
    const before = upstream.requests.length;
    const response = await webchat.call('chat.completions', hello);
    const completion = response.result as Completion;
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('echo: Hello');
    const seen = upstream.requests[before]!;
    expect(seen.body).toMatchObject({ model: UPSTREAM_MODEL, stream: false });
    expect(seen.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(seen.headers) + seen.rawBody).not.toContain(TOKEN);
  });

  it('streams chat.delta notifications in order before the assembled result', async () => {
    const control = await session('control');
    const response = await control.call('chat.completions', { ...hello, stream: true });
    const responseIndex = control.frames.findIndex((frame) => (frame as { id?: unknown }).id === response.id);
    const deltas = control.frames
      .slice(0, responseIndex)
      .filter((frame) => (frame as { method?: string }).method === 'chat.delta') as Array<{
      params: { id: unknown; delta: { object: string; choices: Array<{ delta: { content?: string }; finish_reason: string | null }> } };
    }>;
    expect(deltas.length).toBe(DEFAULT_PIECES.length + 1);
    for (const { params } of deltas) {
      expect(params.id).toBe(response.id);
      expect(params.delta.object).toBe('chat.completion.chunk');
    }
    expect(deltas.map(({ params }) => params.delta.choices[0]?.delta.content ?? '').join('')).toBe(DEFAULT_PIECES.join(''));
    expect(deltas.at(-1)!.params.delta.choices[0]?.finish_reason).toBe('stop');

    const completion = response.result as Completion;
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: UPSTREAM_MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: DEFAULT_PIECES.join('') }, finish_reason: 'stop' }],
    });
  });

  it('refuses a bad body with -32602 invalid_request', async () => {
    const webchat = await session('webchat');
    const before = upstream.requests.length;
    const response = await webchat.call('chat.completions', { model: 'openclaw', messages: [] });
    expect(response.error).toMatchObject({ code: -32602, data: { type: 'invalid_request' } });
    expect(upstream.requests.length).toBe(before);
  });

  it('maps upstream failures to JSON-RPC errors', async () => {
    const webchat = await session('webchat');
    upstream.next({ status: 503 });
    const response = await webchat.call('chat.completions', hello);
    expect(response.error).toMatchObject({ code: -32603, data: { type: 'upstream_error' } });
  });

  it('cancels the upstream request when the session closes mid-stream', async () => {
    const webchat = await session('webchat');
    const abortedBefore = upstream.aborted;
    upstream.next({ holdAfterFirstChunk: true });
    webchat.send(JSON.stringify({ jsonrpc: '2.0', id: 'held', method: 'chat.completions', params: { ...hello, stream: true } }));
    const first = await webchat.waitForNotification('chat.delta');
    expect((first.params as { id: unknown }).id).toBe('held');
    webchat.close();
    await upstream.waitForAborted(abortedBefore + 1, 2_000);
  });
});
