// JSON-RPC frames, fuzzed: the framing rules as a pure function, then a real gateway process fed
// random JSON, deep nesting, huge ids and numbers, batches, binary frames, invalid UTF-8 and odd method
// names. Every answer must be a documented error (or a result), the process must survive without an
// uncaught exception or unhandled rejection, and its memory must stay bounded.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/ws/rpc/frames.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { connectRpc, openRpc, type RpcClient, type RpcResponse } from '../helpers/wsRpc.js';
import { ODD_METHOD_NAMES, expectedFor, undocumented, type FrameExpectation, type RpcErrorShape } from './rpcModel.js';

let nextCase = 0;
const uniqueId = fc.oneof(
  fc.constant(null).map(() => `case-${++nextCase}`),
  fc.constant(null).map(() => Number.MAX_SAFE_INTEGER - ++nextCase),
  fc.constant(null).map(() => `${'\u{1F600}'.repeat(3)}-${++nextCase}`),
);
const methodName = fc.oneof(fc.constantFrom(...ODD_METHOD_NAMES), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));
const paramsValue = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('role', 'auth', 'token', 'lines', 'follow', 'requestId', 'claimSecret', 'deviceId', 'displayName', 'messages', 'model', 'stream', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 2 })),
);
/** Well-formed requests with unique ids, some of them bent in one place. */
const request = fc
  .record({
    id: uniqueId,
    method: methodName,
    params: paramsValue,
    jsonrpc: fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>('2.0') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
  })
  .map(({ id, method, params, jsonrpc }) => JSON.stringify({ jsonrpc, id, method, ...(params === undefined ? {} : { params }) }));
/** Anything else; kept to frames whose answer (if any) carries id null, so answers cannot be confused. */
const noise = fc
  .oneof(
    fc.string({ maxLength: 64 }),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }).map((batch) => JSON.stringify(batch)),
    fc.record({ jsonrpc: fc.constant('2.0'), method: methodName, params: paramsValue }).map((notification) => JSON.stringify(notification)),
  )
  .filter((text) => {
    const expected = expectedFor(text);
    return expected.kind === 'none' || (expected.kind === 'error' && expected.id === null);
  });

describe('parseFrame (pure)', () => {
  it('agrees with the framing model on random text and random requests, and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(request, noise, fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        const parsed = parseFrame(text);
        const expected = expectedFor(text);
        if (expected.kind === 'error') {
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) {
            expect(parsed.id).toBe(expected.id);
            expect(parsed.error.toObject()).toMatchObject({ code: expected.code, data: { type: expected.type } });
          }
        } else {
          expect(parsed.ok).toBe(true);
          if (parsed.ok) expect(parsed.request.id).toBe(expected.kind === 'none' ? undefined : expected.id);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

let gw: GatewayProcess;
let upstream: TestUpstream;
const clients: RpcClient[] = [];

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kib) * 1024;
}

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway({ config: { upstream: { url: upstream.url, model: 'fuzz-model' }, ws: { maxConnectionsPerIp: 0 } } });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.kill();
  await upstream?.close();
});

let probes = 0;

/** Sends the frame, then a probe; everything the frame caused without an id has arrived by the probe's answer. */
async function exchange(client: RpcClient, frame: string | Buffer, expected: FrameExpectation): Promise<void> {
  const from = client.frames.length;
  client.send(frame);
  const probeId = `probe-${++probes}`;
  client.send(JSON.stringify({ jsonrpc: '2.0', id: probeId, method: 'status' }));
  await client.waitForResponse(probeId);
  const between = client.frames.slice(from).filter((f) => (f as RpcResponse).id !== probeId && (f as { method?: string }).method === undefined) as RpcResponse[];
  if (expected.kind === 'none') {
    expect(between, 'a notification from the client must not be answered').toEqual([]);
    return;
  }
  if (expected.kind === 'error' && expected.id === null) {
    expect(between).toHaveLength(1);
    expect(between[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: expected.code, data: { type: expected.type } } });
    return;
  }
  const answer = await client.waitForResponse(expected.id, 15_000);
  if (expected.kind === 'error') {
    expect(answer.error).toMatchObject({ code: expected.code, data: { type: expected.type } });
    return;
  }
  expect('result' in answer || 'error' in answer).toBe(true);
  if (answer.error) expect(undocumented(answer.error as RpcErrorShape), JSON.stringify({ frame: String(frame).slice(0, 300), answer })).toBeNull();
}

/** Fails with the frames that caused it; the gateway must still be healthy afterwards. */
async function expectAlive(): Promise<void> {
  const health = await httpRequest(`${gw.url}/healthz`);
  expect(health.status).toBe(200);
  expect(gw.child.exitCode).toBeNull();
  expect(gw.stderr()).not.toMatch(/uncaughtException|unhandledRejection|UnhandledPromiseRejection|FATAL|Error:/);
}

describe('a real gateway fed random frames', () => {
  let rssBefore = 0;

  it('answers every frame before connect with the documented error (or runs a pre-connect method)', async () => {
    rssBefore = rssBytes(gw.child.pid!);
    const client = await openRpc(gw.wsUrl);
    clients.push(client);
    const preConnect = fc.oneof(request, noise).filter((text) => {
      const expected = expectedFor(text);
      return !(expected.kind === 'dispatched' && expected.method === 'connect');
    });
    await fc.assert(
      fc.asyncProperty(preConnect, async (text) => {
        const expected = expectedFor(text);
        await exchange(client, text, expected);
        if (expected.kind !== 'dispatched') return;
        const answer = await client.waitForResponse(expected.id);
        if (!['node.pair.request', 'node.pair.claim'].includes(expected.method)) {
          expect(answer.error).toMatchObject({ code: -32004, data: { type: 'not_connected' } });
        }
      }),
      { numRuns: 400 },
    );
    await expectAlive();
  }, 60_000);

  it('answers every frame of a connected control session with a result or a documented error', async () => {
    const { client } = await connectRpc(gw.wsUrl, { role: 'control' });
    clients.push(client);
    await fc.assert(
      fc.asyncProperty(fc.oneof(request, noise), async (text) => {
        const expected = expectedFor(text);
        await exchange(client, text, expected);
        if (expected.kind === 'dispatched' && !ODD_METHOD_NAMES.slice(0, 11).includes(expected.method as never)) {
          const answer = await client.waitForResponse(expected.id);
          expect(answer.error).toMatchObject({ code: expected.method === 'connect' ? -32006 : -32601 });
        }
      }),
      { numRuns: 400 },
    );
    await expectAlive();
  }, 60_000);

  it('survives hostile shapes: deep nesting, huge ids and numbers, batches, binary frames, prototype keys', async () => {
    const { client } = await connectRpc(gw.wsUrl, { role: 'control' });
    clients.push(client);
    const deepArray = '['.repeat(100_000);
    const deepObject = (inner: string) => '{"a":'.repeat(100_000) + inner + '}'.repeat(100_000);
    const frame = (id: unknown, method: string, params: string) => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${params}}`;
    const cases: Array<[string | Buffer, FrameExpectation]> = [
      [deepArray, expectedFor(deepArray)],
      [deepArray + ']'.repeat(100_000), { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      [frame('deep-status', 'status', deepObject('1')), { kind: 'dispatched', id: 'deep-status', method: 'status', params: null }],
      [frame('deep-logs', 'logs.tail', `{"lines":1,"x":${deepObject('1')}}`), { kind: 'dispatched', id: 'deep-logs', method: 'logs.tail', params: null }],
      [frame('deep-chat', 'chat.completions', `{"model":"openclaw","messages":[{"role":"user","content":${deepObject('"x"')}}]}`), { kind: 'dispatched', id: 'deep-chat', method: 'chat.completions', params: null }],
      [frame('deep-pair', 'node.pair.request', `{"displayName":${deepObject('"x"')}}`), { kind: 'dispatched', id: 'deep-pair', method: 'node.pair.request', params: null }],
      [frame(1e308, 'status', '{}'), { kind: 'dispatched', id: 1e308, method: 'status', params: {} }],
      ['{"jsonrpc":"2.0","id":1e400,"method":"status"}', { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      ['{"jsonrpc":"2.0","id":-1e400,"method":"status"}', { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      ['{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"status"}', { kind: 'dispatched', id: 123456789012345678901234567890, method: 'status', params: null }],
      [frame('x'.repeat(257), 'status', '{}'), { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      [frame('x'.repeat(256), 'status', '{}'), { kind: 'dispatched', id: 'x'.repeat(256), method: 'status', params: null }],
      [frame('huge-lines', 'logs.tail', '{"lines":1e308}'), { kind: 'error', id: 'huge-lines', code: -32602, type: 'invalid_request' }],
      [frame('neg-lines', 'logs.tail', '{"lines":-1e400}'), { kind: 'error', id: 'neg-lines', code: -32602, type: 'invalid_request' }],
      [frame('big-number-key', 'status', `{"n":${'9'.repeat(500_000)}}`), { kind: 'dispatched', id: 'big-number-key', method: 'status', params: null }],
      [JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'status' }))), { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      ['[]', { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      [Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'bin', method: 'status' })), { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      [Buffer.alloc(512 * 1024, 0xff), { kind: 'error', id: null, code: -32600, type: 'invalid_request' }],
      [frame('proto', '__proto__', '{"__proto__":{"role":"control"}}'), { kind: 'error', id: 'proto', code: -32601, type: 'method_not_found' }],
      [frame('ctor', 'constructor', '{"constructor":{"prototype":{"x":1}}}'), { kind: 'error', id: 'ctor', code: -32601, type: 'method_not_found' }],
      [frame('proto-rotate', 'device.token.rotate', '{"__proto__":{"deviceId":"x"}}'), { kind: 'dispatched', id: 'proto-rotate', method: 'device.token.rotate', params: null }],
      [frame('again', 'connect', '{"role":"control","__proto__":{"role":"node"}}'), { kind: 'error', id: 'again', code: -32006, type: 'conflict' }],
      ['{"jsonrpc":"2.0","id":"dup","id":"dup2","method":"status","method":"nope"}', { kind: 'error', id: 'dup2', code: -32601, type: 'method_not_found' }],
    ];
    for (const [payload, expected] of cases) {
      // a Buffer leaves as a binary frame
      await exchange(client, payload, expected).catch((error: Error) => {
        throw new Error(`case ${String(payload).slice(0, 80)}: ${error.message}`);
      });
    }
    await expectAlive();
  }, 60_000);

  it('closes 1007 on a text frame that is not UTF-8, and 1009 on a 100k-deep frame before connect', async () => {
    const invalidUtf8 = await openRpc(gw.wsUrl);
    invalidUtf8.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0xa0, 0xa1, 0x7d]), { binary: false });
    expect((await invalidUtf8.closed).code).toBe(1007);
    const deep = await openRpc(gw.wsUrl);
    deep.send('['.repeat(100_000));
    expect((await deep.closed).code).toBe(1009);
    await expectAlive();
  });

  it('keeps its memory bounded after all of it', async () => {
    const { client } = await connectRpc(gw.wsUrl, { role: 'control' });
    clients.push(client);
    const big = `{"jsonrpc":"2.0","id":"big","method":"status","params":{"pad":"${'x'.repeat(1_000_000)}"}}`;
    for (let round = 0; round < 30; round++) {
      client.send(big);
      client.send('['.repeat(1_000_000));
    }
    await client.call('status', undefined, 30_000);
    await expectAlive();
    const growth = rssBytes(gw.child.pid!) - rssBefore;
    expect(growth, `RSS grew by ${Math.round(growth / 1e6)} MB`).toBeLessThan(150 * 1024 * 1024);
  }, 60_000);
});
