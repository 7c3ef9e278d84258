import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { DEFAULT_PIECES, startUpstream, type TestUpstream } from '../helpers/upstream.js';

const GATEWAY_TOKEN = 'gw-token-0123456789abcdef0123456789abcdef';
const UPSTREAM_KEY = 'upstream-key-fedcba9876543210';
const UPSTREAM_MODEL = 'test-model-7b';
// Any forwarding header disables the loopback bypass, so these requests authenticate with the token.
const AS_REMOTE_CLIENT = { 'X-Forwarded-For': '203.0.113.7' };

let upstream: TestUpstream;
let gateway: GatewayProcess;
let gatewayQuickTimeout: GatewayProcess;
let gatewayUpstreamDown: GatewayProcess;
let gatewayNoUpstream: GatewayProcess;

beforeAll(async () => {
  upstream = await startUpstream();
  const deadPort = await freePort();
  const upstreamEnv = {
    OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN,
    OPENCLAW_UPSTREAM_URL: upstream.url,
    OPENCLAW_UPSTREAM_API_KEY: UPSTREAM_KEY,
    OPENCLAW_UPSTREAM_MODEL: UPSTREAM_MODEL,
  };
  [gateway, gatewayQuickTimeout, gatewayUpstreamDown, gatewayNoUpstream] = await Promise.all([
    startGateway({ env: upstreamEnv }),
    startGateway({ env: { ...upstreamEnv, OPENCLAW_UPSTREAM_TIMEOUT_SECONDS: '1' } }),
    startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, OPENCLAW_UPSTREAM_URL: `http://127.0.0.1:${deadPort}/v1` } }),
    startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN } }),
  ]);
});

afterAll(async () => {
  upstream?.release();
  await Promise.all([gateway?.stop(), gatewayQuickTimeout?.stop(), gatewayUpstreamDown?.stop(), gatewayNoUpstream?.stop()]);
  await upstream?.close();
});

function client(target: GatewayProcess = gateway, apiKey = GATEWAY_TOKEN): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${target.url}/v1`, maxRetries: 0, defaultHeaders: AS_REMOTE_CLIENT });
}

function post(target: GatewayProcess, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, 'content-type': 'application/json', ...AS_REMOTE_CLIENT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const hello = { model: 'openclaw', messages: [{ role: 'user' as const, content: 'Hello' }] };

async function apiError(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

describe('POST /v1/chat/completions with the openai client', () => {
  it('answers a non-streaming completion from the upstream, with model openclaw rewritten', async () => {
    const before = upstream.requests.length;
    const completion = await client().chat.completions.create(hello);
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('echo: Hello');

    const seen = upstream.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/v1/chat/completions');
    expect(seen[0]!.body).toMatchObject({ model: UPSTREAM_MODEL, messages: hello.messages });
  });

  it('sends the upstream API key and never the gateway token or other client headers', async () => {
    const before = upstream.requests.length;
    await client().chat.completions.create(hello, { headers: { 'X-OpenClaw-Token': GATEWAY_TOKEN, Cookie: 'session=abc' } });
    await client().chat.completions.create({ ...hello, stream: true }).then(async (stream) => {
      for await (const _ of stream);
    });
    const seen = upstream.requests.slice(before);
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      const everything = JSON.stringify(request.headers) + request.rawBody;
      expect(everything).not.toContain(GATEWAY_TOKEN);
      expect(request.headers['x-openclaw-token']).toBeUndefined();
      expect(request.headers['x-forwarded-for']).toBeUndefined();
      expect(request.headers.cookie).toBeUndefined();
      expect(Object.keys(request.headers).filter((name) => name.startsWith('x-stainless'))).toEqual([]);
    }
  });

  it('passes other model names through unchanged', async () => {
    const before = upstream.requests.length;
    const completion = await client().chat.completions.create({ ...hello, model: 'some-other-model' });
    expect(completion.model).toBe('some-other-model');
    expect(upstream.requests[before]!.body?.model).toBe('some-other-model');
  });

  it('streams the chunks in order and ends the stream', async () => {
    const stream = await client().chat.completions.create({ ...hello, stream: true });
    const contents: string[] = [];
    const finishes: Array<string | null> = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      contents.push(chunk.choices[0]?.delta.content ?? '');
      finishes.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(contents.filter(Boolean)).toEqual(DEFAULT_PIECES);
    expect(finishes.at(-1)).toBe('stop');
    expect(upstream.requests.at(-1)!.body).toMatchObject({ model: UPSTREAM_MODEL, stream: true });
  });

  it('relays each chunk as it arrives instead of buffering the answer', async () => {
    upstream.next({ holdAfterFirstChunk: true });
    const stream = await client().chat.completions.create({ ...hello, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    // The upstream holds everything after the first chunk until release(): a buffering proxy would hang here.
    const first = await iterator.next();
    expect(first.value?.choices[0]?.delta.content).toBe(DEFAULT_PIECES[0]);
    upstream.release();
    const rest: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      rest.push(next.value.choices[0]?.delta.content ?? '');
    }
    expect(rest.filter(Boolean)).toEqual(DEFAULT_PIECES.slice(1));
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    const abortedBefore = upstream.aborted;
    upstream.next({ holdAfterFirstChunk: true });
    const stream = await client().chat.completions.create({ ...hello, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    stream.controller.abort();
    // Well before any timeout of the gateway (120 s here) could have closed it instead.
    await upstream.waitForAborted(abortedBefore + 1, 2_000);
    expect(upstream.aborted).toBe(abortedBefore + 1);
    // The gateway is fine afterwards.
    const completion = await client().chat.completions.create(hello);
    expect(completion.choices[0]?.message.content).toBe('echo: Hello');
  });

  it('answers 504 timeout when the upstream is slower than gateway.upstream.timeoutSeconds', async () => {
    upstream.next({ delayMs: 3_000 });
    const started = Date.now();
    const error = await apiError(client(gatewayQuickTimeout).chat.completions.create(hello));
    const elapsed = Date.now() - started;
    expect(error.status).toBe(504);
    expect(error.type).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2_500);
  });

  it('answers 401 to a wrong token without calling the upstream', async () => {
    const before = upstream.requests.length;
    const error = await apiError(client(gateway, 'not-the-token').chat.completions.create(hello));
    expect(error.status).toBe(401);
    expect(upstream.requests.length).toBe(before);
  });

  it('answers 502 upstream_error when the upstream is down', async () => {
    const error = await apiError(client(gatewayUpstreamDown).chat.completions.create(hello));
    expect(error.status).toBe(502);
    expect(error.type).toBe('upstream_error');
    const streaming = await apiError(client(gatewayUpstreamDown).chat.completions.create({ ...hello, stream: true }));
    expect(streaming.status).toBe(502);
  });

  it('answers 503 upstream_unavailable naming the key to set when no upstream is configured', async () => {
    const error = await apiError(client(gatewayNoUpstream).chat.completions.create(hello));
    expect(error.status).toBe(503);
    expect(error.type).toBe('upstream_unavailable');
    expect(error.message).toContain('gateway.upstream.url');
    expect(error.message).toContain('OPENCLAW_UPSTREAM_URL');
  });
});

describe('POST /v1/chat/completions over plain HTTP', () => {
  it('serves the AUTHENTICATION.md curl example', async () => {
    const before = upstream.requests.length;
    // curl -X POST http://localhost:18789/v1/chat/completions -H "Authorization: Bearer …" -H "Content-Type: application/json" -d …
    const response = await fetch(`http://localhost:${gateway.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${GATEWAY_TOKEN}`, 'Content-Type': 'application/json' },
      body: `{
    "model": "openclaw",
    "messages": [{"role": "user", "content": "Hello"}]
  }`,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]?.message.content).toBe('echo: Hello');
    expect(upstream.requests[before]!.body?.model).toBe(UPSTREAM_MODEL);
  });

  it('ends an SSE stream with data: [DONE], adding it when the upstream leaves it out', async () => {
    for (const omitDone of [false, true]) {
      upstream.next({ omitDone });
      const response = await post(gateway, { ...hello, stream: true });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await response.text();
      expect(text.endsWith('\n\ndata: [DONE]\n\n')).toBe(true);
      expect(text.match(/data: \[DONE\]/g)).toHaveLength(1);
      expect(text.split('\n\n').filter(Boolean)).toHaveLength(DEFAULT_PIECES.length + 2);
    }
  });

  it('reports a stall after the headers as an in-band error event, then [DONE]', async () => {
    upstream.next({ chunkDelayMs: 2_000, pieces: ['a', 'b'] });
    const response = await post(gatewayQuickTimeout, { ...hello, stream: true });
    expect(response.status).toBe(200);
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.replace(/^data: /, ''))).toEqual({
      error: { message: 'The upstream did not answer within 1 s.', type: 'timeout' },
    });
  });

  it('propagates W3C trace context and drops a malformed one', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const before = upstream.requests.length;
    await post(gateway, hello, { traceparent, tracestate: 'congo=t61rcWkgMzE' });
    await post(gateway, hello, { traceparent: 'garbage', tracestate: 'x=y' });
    const [traced, malformed] = upstream.requests.slice(before);
    expect(traced!.headers.traceparent).toBe(traceparent);
    expect(traced!.headers.tracestate).toBe('congo=t61rcWkgMzE');
    expect(malformed!.headers.traceparent).toBeUndefined();
    expect(malformed!.headers.tracestate).toBeUndefined();
  });

  it.each([
    ['a body that is not JSON', '{"model":'],
    ['a JSON array', '[]'],
    ['no messages', { model: 'openclaw' }],
    ['empty messages', { model: 'openclaw', messages: [] }],
    ['messages as an object', { model: 'openclaw', messages: { role: 'user', content: 'x' } }],
    ['a message without role', { model: 'openclaw', messages: [{ content: 'x' }] }],
    ['a message that is a string', { model: 'openclaw', messages: ['hi'] }],
    ['no model', { messages: hello.messages }],
    ['a numeric model', { model: 7, messages: hello.messages }],
    ['stream as a string', { ...hello, stream: 'true' }],
  ])('answers 400 invalid_request to %s without calling the upstream', async (_case, body) => {
    const before = upstream.requests.length;
    const response = await post(gateway, body);
    expect(response.status).toBe(400);
    const payload = (await response.json()) as { error: { type: string; message: string } };
    expect(payload.error.type).toBe('invalid_request');
    expect(upstream.requests.length).toBe(before);
  });

  it('maps upstream failures without passing their bodies on', async () => {
    upstream.next({ status: 500, errorBody: { error: { message: 'SECRET stack trace at /srv/model.py:42' } } });
    let response = await post(gateway, hello);
    expect(response.status).toBe(502);
    let text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { message: 'The upstream answered HTTP 500.', type: 'upstream_error' } });

    upstream.next({ rawJson: '<html>not json</html>' });
    response = await post(gateway, hello);
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('upstream_error');

    upstream.next({ status: 401, errorBody: { error: { message: 'bad key' } } });
    response = await post(gateway, hello);
    expect(response.status).toBe(502);
    expect(response.headers.get('www-authenticate')).toBeNull();
    text = await response.text();
    expect(text).toContain('gateway.upstream.apiKey');

    upstream.next({ status: 400, errorBody: { error: { message: 'max_tokens is too large', type: 'BadRequestError' } } });
    response = await post(gateway, hello);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { message: 'Upstream: max_tokens is too large', type: 'invalid_request' } });

    upstream.next({ status: 429, errorBody: { error: { message: 'slow down' } }, headers: { 'retry-after': '7' } });
    response = await post(gateway, hello);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
  });

  it('logs upstream failures without the secrets', async () => {
    await gateway.settled();
    const logText = gateway.lines.join('\n');
    expect(logText).toContain('upstream request failed');
    expect(logText).not.toContain(UPSTREAM_KEY);
    expect(logText).not.toContain(GATEWAY_TOKEN);
  });
});
