// Redis Cluster: the node that holds the gateway's state slot restarts (graceful SHUTDOWN SAVE, down for
// 3 s, as in a rolling restart) under steady load against two replicas: failed requests are counted,
// recovery is timed, and no acknowledged approval, rotation or revocation is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { redisCommand, startCluster, type ClusterSetup, type RedisServer } from '../helpers/redis.js';
import type { RpcClient } from '../helpers/wsRpc.js';
import { controlSession, pairDevice, status, waitUntil, type PairedDevice } from './fixtures.js';
import { PairingLoad, formatReport, verifyLedger } from './PairingLoad.js';

const TOKEN = 'resilience-cluster-gateway-token-1f60';
const DOWN_FOR_MS = 3_000;

let cluster: ClusterSetup;
let replicas: GatewayProcess[] = [];
let controls: RpcClient[] = [];
const steadyDevices: PairedDevice[] = [];

/** The node serving the slot of the `{state}` hash tag, where every gateway key lives. */
async function stateNode(): Promise<RedisServer> {
  const slot = Number(await redisCommand(cluster.servers[0]!, ['CLUSTER', 'KEYSLOT', '{state}']));
  const ranges = (await redisCommand(cluster.servers[0]!, ['CLUSTER', 'SLOTS'])) as Array<[number, number, [string, number]]>;
  const owner = ranges.find(([first, last]) => first <= slot && slot <= last);
  const server = cluster.servers.find((s) => s.port === Number(owner?.[2][1]));
  if (!server) throw new Error(`no node serves slot ${slot}`);
  return server;
}

beforeAll(async () => {
  cluster = await startCluster();
  // An RDB snapshot on shutdown, so the restarted node comes back with its data (the fixture disables saving).
  for (const server of cluster.servers) await redisCommand(server, ['CONFIG', 'SET', 'save', '3600 1']);
  replicas = await Promise.all(
    ['c-a', 'c-b'].map((replicaId) =>
      startGateway({
        config: { auth: { token: TOKEN, rateLimit: { maxFailures: 100_000 } } },
        env: { OPENCLAW_REDIS_CLUSTER_NODES: cluster.nodesString, OPENCLAW_REPLICA_ID: replicaId },
      }),
    ),
  );
  controls = await Promise.all(replicas.map(controlSession));
  for (let i = 0; i < 3; i++) steadyDevices.push(await pairDevice(replicas[i % 2]!, controls[(i + 1) % 2]!));
}, 60_000);

afterAll(async () => {
  for (const control of controls) control.close();
  await Promise.all(replicas.map((replica) => replica.kill()));
  await cluster?.stop();
});

describe('Redis Cluster node restart under load', () => {
  it('counts failures, recovers within bounds, and loses no acknowledged write', async () => {
    const node = await stateNode();
    const load = new PairingLoad({ replicas, controls, gatewayToken: TOKEN, steadyDevices });
    load.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    load.markFault();
    const downAt = Date.now();
    await redisCommand(node, ['SHUTDOWN', 'SAVE']).catch(() => {}); // the connection drops as the node exits
    await new Promise((resolve) => setTimeout(resolve, DOWN_FOR_MS));
    await node.restart();
    await cluster.waitForOk(20_000);
    const clusterOkMs = Date.now() - downAt;
    await Promise.all(
      replicas.map((replica) => waitUntil('/readyz 200 after the restart', 30_000, async () => (await status(replica.url, '/readyz')) === 200)),
    );
    const readyMs = Date.now() - downAt;
    await waitUntil('3 s without failures', 30_000, async () => load.quietForMs() >= 3_000);
    const quietSince = Date.now() - 3_000;
    await load.stop();

    const report = load.report();
    console.info(`[resilience] cluster node restart: node ${node.port} down ${DOWN_FOR_MS} ms; cluster ok after ${clusterOkMs} ms; both replicas ready after ${readyMs} ms`);
    console.info(formatReport('cluster node restart', report));

    expect(report.total.pair).toBeGreaterThan(3);
    expect(load.successesSince(quietSince, 'pair')).toBeGreaterThan(0);
    // Cached device tokens and the gateway token need no Redis round trip: the auth stream rides out the
    // outage while the bus is down too (a cached device is served when the store cannot answer). But the bus
    // may reconnect to another node before the state node is back; the token cache is then flushed (it may
    // have missed a revocation) and device requests get 503 until the store answers: never a wrong answer,
    // and only inside the fault window (recoveryMs below counts every failure).
    expect(report.failureDetails.filter((detail) => detail.startsWith('auth:'))).toEqual(
      report.failed.auth > 0 ? ['auth: HTTP 503'] : [],
    );
    expect(report.failed.auth).toBeLessThanOrEqual(Math.ceil(report.total.auth * 0.05));
    // The state node was really gone for a while: some state write failed. Which kind is chance (a pairing
    // request that waited out the outage in ioredis's queue succeeds); CI once saw pair 0/69, rotate 1, revoke 1.
    expect(report.failed.pair + report.failed.rotate + report.failed.revoke).toBeGreaterThan(0);
    expect(report.recoveryMs).toBeLessThan(DOWN_FOR_MS + 12_000);
    expect(readyMs).toBeLessThan(DOWN_FOR_MS + 20_000);

    expect(await verifyLedger(load, replicas, controls[0]!)).toEqual([]);
  }, 85_000);
});
