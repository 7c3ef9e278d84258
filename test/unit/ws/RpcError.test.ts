import { describe, expect, it } from 'vitest';
import { ERROR_TYPES, GatewayError, type ErrorType } from '../../../src/errors.js';
import { StoreUnavailableError } from '../../../src/store/types.js';
import { RpcError, toRpcError } from '../../../src/ws/rpc/RpcError.js';

describe('toRpcError', () => {
  it.each([
    ['unauthorized', -32001],
    ['rate_limited', -32002],
    ['forbidden', -32003],
    ['not_found', -32005],
    ['conflict', -32006],
    ['unavailable', -32007],
    ['invalid_request', -32602],
  ] as Array<[ErrorType, number]>)('maps GatewayError %s to %i with data.type', (type, code) => {
    const mapped = toRpcError(new GatewayError(type, 'why'), () => {
      throw new Error('not internal');
    });
    expect(mapped.toObject()).toEqual({ code, message: 'why', data: { type } });
    expect(ERROR_TYPES[type].rpcCode).toBe(code);
  });

  it('carries retryAfter for rate_limited', () => {
    const mapped = toRpcError(new GatewayError('rate_limited', 'slow down', { retryAfterSeconds: 42 }), () => {});
    expect(mapped.toObject()).toEqual({ code: -32002, message: 'slow down', data: { type: 'rate_limited', retryAfter: 42 } });
  });

  it('maps a store outage to -32007 unavailable', () => {
    expect(toRpcError(new StoreUnavailableError(), () => {}).toObject()).toMatchObject({ code: -32007, data: { type: 'unavailable' } });
  });

  it('hides anything else behind -32603 and reports it', () => {
    const reported: unknown[] = [];
    const secret = new Error('connection string redis://:hunter2@db');
    const mapped = toRpcError(secret, (error) => reported.push(error));
    expect(mapped.toObject()).toEqual({ code: -32603, message: 'Internal error.', data: { type: 'internal_error' } });
    expect(reported).toEqual([secret]);
  });

  it('passes RpcErrors through', () => {
    const error = RpcError.methodNotFound('nope');
    expect(toRpcError(error, () => {})).toBe(error);
    expect(error.toObject()).toEqual({ code: -32601, message: 'Method not found: nope', data: { type: 'method_not_found' } });
  });
});
