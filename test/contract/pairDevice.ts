// Pairs a device over the real WebSocket API (request → approve by a control session → node.pair.resolved),
// for contract tests that need a genuine device token.
import { openRpc, type RpcClient } from '../helpers/wsRpc.js';

export interface PairedDevice {
  readonly requestId: string;
  readonly deviceId: string;
  readonly token: string;
}

export async function pairDevice(wsUrl: string, control: RpcClient, localAddress: string, params: Record<string, unknown> = {}): Promise<PairedDevice> {
  const device = await openRpc(wsUrl, { localAddress });
  try {
    const requested = await device.call('node.pair.request', { displayName: 'contract device', ...params });
    if (!requested.result) throw new Error(`node.pair.request failed: ${JSON.stringify(requested.error)}`);
    const { requestId, deviceId } = requested.result as { requestId: string; deviceId: string };
    const approved = await control.call('node.pair.approve', { requestId });
    if (!approved.result) throw new Error(`node.pair.approve failed: ${JSON.stringify(approved.error)}`);
    const resolved = await device.waitForNotification('node.pair.resolved', (p) => (p as { requestId: string }).requestId === requestId);
    return { requestId, deviceId, token: (resolved.params as { token: string }).token };
  } finally {
    device.close();
  }
}
