import { describe, expect, it } from 'vitest';
import { errorFrame, notificationFrame, parseFrame, resultFrame } from '../../../src/ws/rpc/frames.js';
import { RpcError } from '../../../src/ws/rpc/RpcError.js';

describe('parseFrame', () => {
  it('accepts a JSON-RPC 2.0 request', () => {
    expect(parseFrame('{"jsonrpc":"2.0","id":1,"method":"status","params":{}}')).toEqual({
      ok: true,
      request: { id: 1, method: 'status', params: {} },
    });
  });

  it('keeps a missing id as a notification and string ids as they are', () => {
    const notification = parseFrame('{"jsonrpc":"2.0","method":"status"}');
    expect(notification.ok && notification.request.id).toBeUndefined();
    const named = parseFrame('{"jsonrpc":"2.0","id":"a-1","method":"status"}');
    expect(named.ok && named.request.id).toBe('a-1');
  });

  it('answers text that is not JSON with -32700 and id null', () => {
    const parsed = parseFrame('{"jsonrpc":');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.id).toBeNull();
    expect(parsed.error.toObject()).toMatchObject({ code: -32700, data: { type: 'parse_error' } });
  });

  it.each([
    ['[{"jsonrpc":"2.0","id":1,"method":"status"}]', null],
    ['"status"', null],
    ['{"id":7,"method":"status"}', 7],
    ['{"jsonrpc":"1.0","id":7,"method":"status"}', 7],
    ['{"jsonrpc":"2.0","id":7}', 7],
    ['{"jsonrpc":"2.0","id":7,"method":""}', 7],
    ['{"jsonrpc":"2.0","id":7,"method":"status","params":3}', 7],
    ['{"jsonrpc":"2.0","id":7,"method":"status","params":null}', 7],
    ['{"jsonrpc":"2.0","id":{"x":1},"method":"status"}', null],
    [`{"jsonrpc":"2.0","id":"${'x'.repeat(300)}","method":"status"}`, null],
  ])('answers %s with -32600 and the id it could read', (text, id) => {
    const parsed = parseFrame(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.id).toBe(id);
    expect(parsed.error.toObject()).toMatchObject({ code: -32600, data: { type: 'invalid_request' } });
  });
});

describe('frame builders', () => {
  it('serialise results, errors and notifications', () => {
    expect(JSON.parse(resultFrame(3, { ok: true }))).toEqual({ jsonrpc: '2.0', id: 3, result: { ok: true } });
    expect(JSON.parse(resultFrame(3, undefined))).toEqual({ jsonrpc: '2.0', id: 3, result: null });
    expect(JSON.parse(errorFrame(null, RpcError.notConnected().toObject()))).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32004, message: 'Not connected: call connect first.', data: { type: 'not_connected' } },
    });
    const notification = JSON.parse(notificationFrame('logs.line', { line: 'x' }));
    expect(notification).toEqual({ jsonrpc: '2.0', method: 'logs.line', params: { line: 'x' } });
    expect('id' in notification).toBe(false);
  });
});
