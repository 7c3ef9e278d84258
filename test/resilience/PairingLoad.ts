// Steady load against several replicas while Redis fails over: authenticated HTTP requests with device
// tokens and the gateway token, and a stream of pairing operations (pair, rotate, revoke). Every answer
// is recorded with its time; every acknowledged pairing write goes into a ledger that is checked against
// the cluster afterwards. Failed writes leave their device "uncertain" (the outcome is unknown).
import type { GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import type { RpcClient } from '../helpers/wsRpc.js';
import { NOT_LOOPBACK, RpcFailure, pairDevice, resultOf, whoamiAs, type PairedDevice } from './fixtures.js';

export type OperationKind = 'auth' | 'pair' | 'rotate' | 'revoke';

export interface Outcome {
  readonly kind: OperationKind;
  readonly at: number;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface LedgerDevice {
  deviceId: string;
  /** The token the last acknowledged pairing or rotation handed out. */
  token: string | undefined;
  /** Every token this device ever held before `token`. */
  readonly replacedTokens: string[];
  revoked: boolean;
  /** A rotation or revocation failed: the device's state is unknown. */
  uncertain: boolean;
}

export interface LoadReport {
  readonly total: Record<OperationKind, number>;
  readonly failed: Record<OperationKind, number>;
  /** ms from the fault to the first success after the last failure (0 when nothing failed). */
  readonly recoveryMs: number;
  readonly failureDetails: string[];
}

export interface PairingLoadOptions {
  readonly replicas: readonly GatewayProcess[];
  /** One control session per replica, same order. */
  readonly controls: readonly RpcClient[];
  readonly gatewayToken: string;
  /** Devices paired before the load, used by the auth stream. */
  readonly steadyDevices: readonly PairedDevice[];
  readonly requestTimeoutMs?: number;
}

const ZERO = (): Record<OperationKind, number> => ({ auth: 0, pair: 0, rotate: 0, revoke: 0 });

export class PairingLoad {
  readonly outcomes: Outcome[] = [];
  readonly ledger = new Map<string, LedgerDevice>();
  private running = false;
  private workers: Promise<void>[] = [];
  private faultAt: number | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: PairingLoadOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  start(): void {
    this.running = true;
    this.workers = [this.authStream(0), this.authStream(1), this.pairingStream()];
  }

  /** Marks the moment the fault was injected, for the recovery time. */
  markFault(): void {
    this.faultAt = Date.now();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Milliseconds since the last failed operation (Infinity when none failed yet). */
  quietForMs(): number {
    const lastFailure = this.lastFailure();
    return lastFailure ? Date.now() - lastFailure.at : Number.POSITIVE_INFINITY;
  }

  private lastFailure(): Outcome | undefined {
    for (let i = this.outcomes.length - 1; i >= 0; i--) if (!this.outcomes[i]!.ok) return this.outcomes[i];
    return undefined;
  }

  successesSince(at: number, kind: OperationKind): number {
    return this.outcomes.filter((o) => o.kind === kind && o.ok && o.at >= at).length;
  }

  report(): LoadReport {
    const total = ZERO();
    const failed = ZERO();
    for (const o of this.outcomes) {
      total[o.kind]++;
      if (!o.ok) failed[o.kind]++;
    }
    const lastFailure = this.lastFailure();
    let recoveryMs = 0;
    if (lastFailure) {
      const recovered = this.outcomes.find((o) => o.ok && o.at > lastFailure.at);
      recoveryMs = (recovered?.at ?? Date.now()) - (this.faultAt ?? this.outcomes[0]?.at ?? 0);
    }
    const failureDetails = [...new Set(this.outcomes.filter((o) => !o.ok).map((o) => `${o.kind}: ${o.detail}`))];
    return { total, failed, recoveryMs, failureDetails };
  }

  private record(kind: OperationKind, ok: boolean, detail?: string): void {
    this.outcomes.push({ kind, at: Date.now(), ok, detail });
  }

  private replica(i: number): GatewayProcess {
    return this.options.replicas[i % this.options.replicas.length]!;
  }

  private control(i: number): RpcClient {
    return this.options.controls[i % this.options.controls.length]!;
  }

  /** Device tokens and the gateway token, alternating replicas, one request at a time per stream. */
  private async authStream(offset: number): Promise<void> {
    const { steadyDevices, gatewayToken } = this.options;
    for (let i = offset; this.running; i++) {
      const replica = this.replica(i);
      const device = steadyDevices[i % steadyDevices.length]!;
      const useGatewayToken = i % 4 === 3;
      try {
        const response = useGatewayToken
          ? await httpRequest(`${replica.url}/v1/whoami`, {
              headers: { authorization: `Bearer ${gatewayToken}`, ...NOT_LOOPBACK },
              timeoutMs: this.timeoutMs,
            })
          : await whoamiAs(replica, device.token, this.timeoutMs);
        this.record('auth', response.status === 200, `HTTP ${response.status}`);
      } catch (error) {
        this.record('auth', false, (error as Error).message.split('\n')[0]);
      }
      await pause(10);
    }
  }

  /** pair (request on one replica, approve on the next, claim on a third), rotate, revoke, in turn. */
  private async pairingStream(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const step = i % 4;
      if (step === 0 || step === 1) await this.pairOne(i);
      else if (step === 2) await this.rotateOne(i);
      else await this.revokeOne(i);
      await pause(20);
    }
  }

  private async pairOne(i: number): Promise<void> {
    try {
      // pairDevice resolves only after the approval was acknowledged, so the device must exist.
      const device = await pairDevice(this.replica(i), this.control(i + 1), this.replica(i + 2), this.timeoutMs);
      this.ledger.set(device.deviceId, { deviceId: device.deviceId, token: device.token, replacedTokens: [], revoked: false, uncertain: false });
      this.record('pair', true);
      await this.warm(device.token);
    } catch (error) {
      this.record('pair', false, describe(error));
    }
  }

  /**
   * Every replica caches the token, so a rotation or revocation whose invalidation a replica missed would
   * show in verifyLedger as a stale token still accepted.
   */
  private async warm(token: string): Promise<void> {
    for (const replica of this.options.replicas) await whoamiAs(replica, token, this.timeoutMs).catch(() => undefined);
  }

  private pick(i: number): LedgerDevice | undefined {
    const candidates = [...this.ledger.values()].filter((d) => !d.revoked && !d.uncertain && d.token !== undefined);
    return candidates[i % Math.max(1, candidates.length)];
  }

  private async rotateOne(i: number): Promise<void> {
    const device = this.pick(i);
    if (!device) return;
    try {
      const answer = await this.control(i).call('device.token.rotate', { deviceId: device.deviceId }, this.timeoutMs);
      const { token } = resultOf<{ token: string }>(answer);
      device.replacedTokens.push(device.token!);
      device.token = token;
      this.record('rotate', true);
      await this.warm(token);
    } catch (error) {
      device.uncertain = true;
      this.record('rotate', false, describe(error));
    }
  }

  private async revokeOne(i: number): Promise<void> {
    const device = this.pick(i + 1);
    if (!device) return;
    try {
      resultOf(await this.control(i + 1).call('device.token.revoke', { deviceId: device.deviceId }, this.timeoutMs));
      device.revoked = true;
      this.record('revoke', true);
    } catch (error) {
      device.uncertain = true;
      this.record('revoke', false, describe(error));
    }
  }
}

/**
 * Every acknowledged write holds: approved devices exist, revoked ones are gone and their tokens refused,
 * rotated devices answer to their newest token only (on every replica). Returns the problems found.
 */
export async function verifyLedger(load: PairingLoad, replicas: readonly GatewayProcess[], control: RpcClient): Promise<string[]> {
  const problems: string[] = [];
  const { devices } = resultOf<{ devices: Array<{ deviceId: string }> }>(await control.call('device.list', {}));
  const listed = new Set(devices.map((d) => d.deviceId));
  for (const device of load.ledger.values()) {
    if (device.uncertain) continue;
    if (device.revoked && listed.has(device.deviceId)) problems.push(`revoked ${device.deviceId} still listed`);
    if (!device.revoked && !listed.has(device.deviceId)) problems.push(`approved ${device.deviceId} missing`);
    for (const replica of replicas) {
      const current = (await whoamiAs(replica, device.token!)).status;
      const expected = device.revoked ? 401 : 200;
      if (current !== expected) problems.push(`${device.deviceId} current token -> ${current} on ${replica.port} (want ${expected})`);
      for (const old of device.replacedTokens) {
        const stale = (await whoamiAs(replica, old)).status;
        if (stale !== 401) problems.push(`${device.deviceId} replaced token -> ${stale} on ${replica.port}`);
      }
    }
  }
  return problems;
}

export function formatReport(label: string, report: LoadReport): string {
  const parts = (Object.keys(report.total) as OperationKind[]).map((k) => `${k} ${report.failed[k]}/${report.total[k]} failed`);
  return `[resilience] ${label}: ${parts.join(', ')}; recovery ${report.recoveryMs} ms${
    report.failureDetails.length ? `; failures: ${report.failureDetails.slice(0, 6).join(' | ')}` : ''
  }`;
}

function describe(error: unknown): string {
  if (error instanceof RpcFailure) return `${error.response.error?.code} ${error.response.error?.data?.type}`;
  return (error as Error).message.split('\n')[0] ?? String(error);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
