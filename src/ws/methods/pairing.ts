import type { PairingService } from '../../pairing/PairingService.js';
import type { PairingCaller } from '../../pairing/types.js';
import type { RpcCallContext, RpcMethod } from '../rpc/RpcMethod.js';
import { objectParams } from '../rpc/params.js';

/**
 * GATEWAY.md section 6. Requests and claims come from devices that have no token yet, so they run
 * before `connect`; administration is for control sessions; a node may rotate only its own token.
 * Param checks live in the service (GatewayError 'invalid_request' → -32602).
 */
export function pairingMethods(pairing: PairingService): RpcMethod[] {
  return [
    {
      name: 'node.pair.request',
      roles: ['control', 'node', 'webchat'],
      beforeConnect: true,
      handle: async (params, call) => {
        const answer = await pairing.request(objectParams(params), callerOf(call));
        call.onClose(() => pairing.deliveries.forgetSession(call.session.id));
        return answer;
      },
    },
    {
      name: 'node.pair.claim',
      roles: ['control', 'node', 'webchat'],
      beforeConnect: true,
      handle: async (params, _call) => {
        const { requestId, claimSecret } = objectParams(params);
        return pairing.claim(requestId, claimSecret);
      },
    },
    {
      name: 'node.pair.approve',
      roles: ['control'],
      handle: async (params, call) => pairing.approve(objectParams(params).requestId, callerOf(call)),
    },
    {
      name: 'node.pair.reject',
      roles: ['control'],
      handle: async (params, call) => pairing.reject(objectParams(params).requestId, callerOf(call)),
    },
    {
      name: 'node.pair.list',
      roles: ['control'],
      handle: async (params) => {
        objectParams(params);
        return pairing.listPending();
      },
    },
    {
      name: 'device.list',
      roles: ['control'],
      handle: async (params) => {
        objectParams(params);
        return pairing.listDevices();
      },
    },
    {
      name: 'device.token.rotate',
      roles: ['control', 'node'],
      authorize: (params, call) =>
        call.session.role === 'control' ||
        (call.session.deviceId !== undefined && (params as { deviceId?: unknown } | undefined)?.deviceId === call.session.deviceId),
      handle: async (params, call) => pairing.rotateToken(objectParams(params).deviceId, callerOf(call)),
    },
    {
      name: 'device.token.revoke',
      roles: ['control'],
      handle: async (params, call) => pairing.revoke(objectParams(params).deviceId, callerOf(call)),
    },
  ];
}

function callerOf(call: RpcCallContext): PairingCaller {
  const { session } = call;
  return {
    clientIp: session.clientIp,
    sessionId: session.id,
    role: session.role ?? null,
    deviceId: session.deviceId ?? null,
    identity: session.identity?.identity ?? null,
  };
}
