import { describe, expect, it } from 'vitest';
import type { Role } from '../../../src/auth/types.js';
import { RpcDispatcher } from '../../../src/ws/rpc/RpcDispatcher.js';
import { RpcError } from '../../../src/ws/rpc/RpcError.js';
import type { RpcCallContext, RpcMethod } from '../../../src/ws/rpc/RpcMethod.js';
import type { GatewayServices } from '../../../src/services.js';

const echo = (name: string, roles: readonly Role[], extra: Partial<RpcMethod> = {}): RpcMethod => ({
  name,
  roles,
  handle: async (params) => ({ name, params }),
  ...extra,
});

// GATEWAY.md section 5: control everything; node status + own device.token.rotate; webchat status + chat.completions.
const dispatcher = new RpcDispatcher([
  echo('status', ['control', 'node', 'webchat']),
  echo('logs.tail', ['control']),
  echo('chat.completions', ['control', 'webchat']),
  echo('device.token.rotate', ['control', 'node'], {
    authorize: (params, call) => call.session.role === 'control' || (params as { deviceId?: string }).deviceId === call.session.deviceId,
  }),
  echo('node.pair.request', ['control', 'node', 'webchat'], { beforeConnect: true }),
]);

function caller(role: Role | undefined, deviceId?: string): RpcCallContext {
  return {
    session: {
      id: 's1',
      clientIp: '127.0.0.1',
      connected: role !== undefined,
      role,
      identity: undefined,
      deviceId,
    },
    services: {} as GatewayServices,
    notify: () => true,
    onClose: () => {},
  };
}

async function outcome(method: string, call: RpcCallContext, params: unknown = {}): Promise<number | 'ok'> {
  try {
    await dispatcher.dispatch(method, params, call);
    return 'ok';
  } catch (error) {
    return (error as RpcError).code;
  }
}

describe('RpcDispatcher permission table', () => {
  it.each([
    ['control', 'status', 'ok'],
    ['control', 'logs.tail', 'ok'],
    ['control', 'chat.completions', 'ok'],
    ['control', 'device.token.rotate', 'ok'],
    ['node', 'status', 'ok'],
    ['node', 'logs.tail', -32003],
    ['node', 'chat.completions', -32003],
    ['webchat', 'status', 'ok'],
    ['webchat', 'chat.completions', 'ok'],
    ['webchat', 'logs.tail', -32003],
    ['webchat', 'device.token.rotate', -32003],
  ] as Array<[Role, string, number | 'ok']>)('%s calling %s → %s', async (role, method, expected) => {
    expect(await outcome(method, caller(role), { deviceId: 'd1' })).toBe(expected);
  });

  it('lets a node rotate only its own device token', async () => {
    expect(await outcome('device.token.rotate', caller('node', 'd1'), { deviceId: 'd1' })).toBe('ok');
    expect(await outcome('device.token.rotate', caller('node', 'd1'), { deviceId: 'd2' })).toBe(-32003);
  });

  it('before connect allows only beforeConnect methods (-32004 otherwise, unknown ones included)', async () => {
    expect(await outcome('node.pair.request', caller(undefined))).toBe('ok');
    expect(await outcome('status', caller(undefined))).toBe(-32004);
    expect(await outcome('no.such.method', caller(undefined))).toBe(-32004);
  });

  it('answers an unknown method after connect with -32601', async () => {
    expect(await outcome('no.such.method', caller('control'))).toBe(-32601);
  });

  it('refuses duplicate and reserved names', () => {
    expect(() => dispatcher.register([echo('status', ['control'])])).toThrow(/twice/);
    expect(() => dispatcher.register([echo('connect', ['control'])])).toThrow(/reserved/);
  });
});
