// Redis Sentinel failover (primary SIGKILLed, replica promoted) under steady load against two replicas:
// failed requests are counted, recovery is timed, and no acknowledged approval, rotation or revocation
// is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { infoField, redisCommand, startSentinel, type SentinelSetup } from '../helpers/redis.js';
import type { RpcClient } from '../helpers/wsRpc.js';
import { controlSession, pairDevice, status, waitUntil, type PairedDevice } from './fixtures.js';
import { PairingLoad, formatReport, verifyLedger } from './PairingLoad.js';

const TOKEN = 'resilience-sentinel-gateway-token-93bd';

let sentinel: SentinelSetup;
let replicas: GatewayProcess[] = [];
let controls: RpcClient[] = [];
let steadyDevices: PairedDevice[] = [];

beforeAll(async () => {
  sentinel = await startSentinel();
  replicas = await Promise.all(
    ['s-a', 's-b'].map((replicaId) =>
      startGateway({
        // Verification sends refused tokens on purpose: keep the failed-auth limiter out of the way.
        config: { auth: { token: TOKEN, rateLimit: { maxFailures: 100_000 } } },
        env: {
          OPENCLAW_REDIS_SENTINELS: sentinel.sentinelsString,
          OPENCLAW_REDIS_SENTINEL_NAME: sentinel.name,
          OPENCLAW_REPLICA_ID: replicaId,
        },
      }),
    ),
  );
  controls = await Promise.all(replicas.map(controlSession));
  for (let i = 0; i < 3; i++) steadyDevices.push(await pairDevice(replicas[i % 2]!, controls[(i + 1) % 2]!));
}, 60_000);

afterAll(async () => {
  for (const control of controls) control.close();
  await Promise.all(replicas.map((replica) => replica.kill()));
  await sentinel?.stop();
});

describe('Sentinel failover under load', () => {
  it('waits for a replica to confirm pairing writes (WAIT) while the primary has one', async () => {
    const stats = await redisCommand(sentinel.primary, ['INFO', 'commandstats']);
    // cmdstat_wait:calls=N,...
    expect(Number(/calls=(\d+)/.exec(infoField(stats, 'cmdstat_wait') ?? '')?.[1] ?? 0)).toBeGreaterThanOrEqual(3);
  });

  it('counts failures, recovers within bounds, and loses no acknowledged write', async () => {
    const load = new PairingLoad({ replicas, controls, gatewayToken: TOKEN, steadyDevices });
    load.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    load.markFault();
    const killedAt = Date.now();
    await sentinel.killPrimary();
    const promoted = await sentinel.waitForFailover(30_000);
    const failoverMs = Date.now() - killedAt;
    await Promise.all(
      replicas.map((replica) => waitUntil('/readyz 200 after failover', 30_000, async () => (await status(replica.url, '/readyz')) === 200)),
    );
    const readyMs = Date.now() - killedAt;
    // Keep the load on until pairing has worked for a while on the new primary.
    await waitUntil('3 s without failures', 30_000, async () => load.quietForMs() >= 3_000);
    const quietSince = Date.now() - 3_000;
    await load.stop();

    const report = load.report();
    console.info(`[resilience] sentinel failover: promoted ${promoted.host}:${promoted.port} after ${failoverMs} ms; both replicas ready after ${readyMs} ms`);
    console.info(formatReport('sentinel failover', report));

    expect(report.total.pair).toBeGreaterThan(3);
    expect(report.total.rotate).toBeGreaterThan(0);
    expect(report.total.revoke).toBeGreaterThan(0);
    expect(load.successesSince(quietSince, 'pair')).toBeGreaterThan(0);
    // Cached device tokens and the gateway token need no Redis round trip, so the auth stream rides out the
    // outage itself. When the bus comes back the token cache is flushed (it may have missed a revocation);
    // a device request in the moment before the store client has reconnected gets 503, never a wrong answer.
    expect(report.failed.auth).toBeLessThanOrEqual(Math.ceil(report.total.auth * 0.01));
    expect(report.failureDetails.filter((detail) => detail.startsWith('auth:'))).toEqual(
      report.failed.auth > 0 ? ['auth: HTTP 503'] : [],
    );
    // Writes fail (503 / -32007) only while no primary is reachable: detection (1 s) + election + reconnect.
    expect(report.recoveryMs).toBeLessThan(15_000);
    expect(readyMs).toBeLessThan(20_000);

    expect(await verifyLedger(load, replicas, controls[0]!)).toEqual([]);
    await Promise.all(replicas.map((replica) => replica.settled()));
    const output = replicas.flatMap((replica) => replica.lines).join('\n');
    expect(output).not.toContain(TOKEN);
  }, 80_000);
});
