// Shared by the resilience suites: pairing a device through the real WebSocket API, and asking a
// replica who a device token is over HTTP.
import type { GatewayProcess } from '../helpers/gateway.js';
import { httpRequest, type HttpResponse } from '../helpers/httpRequest.js';
import { connectRpc, openRpc, type RpcClient, type RpcResponse } from '../helpers/wsRpc.js';

/** Makes an HTTP request non-loopback without changing its client IP (the peer is not a trusted proxy). */
export const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.9' };

let nextAddress = 0;
/** A distinct loopback source address per device, so the per-IP pending cap (3) never interferes. */
export function freshAddress(): string {
  nextAddress += 1;
  return `127.0.${Math.floor(nextAddress / 250) + 20}.${(nextAddress % 250) + 1}`;
}

export function resultOf<T = Record<string, unknown>>(response: RpcResponse): T {
  if (!response.result) throw new RpcFailure(response);
  return response.result as T;
}

/** A JSON-RPC error answer, kept whole so tests can assert on code and data.type. */
export class RpcFailure extends Error {
  constructor(readonly response: RpcResponse) {
    super(`JSON-RPC error ${JSON.stringify(response.error)}`);
  }
}

export interface PairedDevice {
  deviceId: string;
  token: string;
}

/** A loopback control session (identity `local`) on one replica. */
export async function controlSession(replica: GatewayProcess): Promise<RpcClient> {
  return (await connectRpc(replica.wsUrl, { role: 'control' })).client;
}

/**
 * node.pair.request on `requester`, node.pair.approve through `control`, then node.pair.claim on a
 * fresh socket of `claimer` for the token. Throws RpcFailure on any error answer.
 */
export async function pairDevice(
  requester: GatewayProcess,
  control: RpcClient,
  claimer: GatewayProcess = requester,
  timeoutMs = 10_000,
): Promise<PairedDevice> {
  const device = await openRpc(requester.wsUrl, { localAddress: freshAddress() });
  try {
    const answer = resultOf<{ requestId: string; deviceId: string; claimSecret: string }>(
      await device.call('node.pair.request', { displayName: 'resilience device', platform: 'linux' }, timeoutMs),
    );
    resultOf(await control.call('node.pair.approve', { requestId: answer.requestId }, timeoutMs));
    const claimant = claimer === requester ? device : await openRpc(claimer.wsUrl, { localAddress: freshAddress() });
    try {
      const claimed = resultOf<{ token: string }>(
        await claimant.call('node.pair.claim', { requestId: answer.requestId, claimSecret: answer.claimSecret }, timeoutMs),
      );
      return { deviceId: answer.deviceId, token: claimed.token };
    } finally {
      if (claimant !== device) claimant.close();
    }
  } finally {
    device.close();
  }
}

/** GET /v1/whoami with a device token, as a non-loopback client. */
export function whoamiAs(replica: GatewayProcess, token: string, timeoutMs = 5_000): Promise<HttpResponse> {
  return httpRequest(`${replica.url}/v1/whoami`, {
    headers: { authorization: `Bearer ${token}`, ...NOT_LOOPBACK },
    timeoutMs,
  });
}

export async function status(url: string, path: string): Promise<number> {
  try {
    return (await httpRequest(`${url}${path}`, { timeoutMs: 2_000 })).status;
  } catch {
    return 0;
  }
}

/** Polls until `condition` holds; resolves with the milliseconds it took. */
export async function waitUntil(what: string, timeoutMs: number, condition: () => Promise<boolean>, intervalMs = 50): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A 43-character base64url string shaped like a device token that no device holds. */
export function unknownDeviceToken(seed: number): string {
  return `unknown${String(seed).padStart(4, '0')}`.padEnd(43, 'x');
}
