import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../../../src/cluster/LocalBus.js';
import { MAX_WAITING_REQUESTERS, RequesterDeliveries } from '../../../src/pairing/RequesterDeliveries.js';
import type { ResolvedAnswer } from '../../../src/pairing/types.js';
import type { Notifier, NotifyTarget } from '../../../src/ws/Notifier.js';

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('RequesterDeliveries', () => {
  const bus = new LocalBus('replica-a');
  const sent: Array<{ target: NotifyTarget; method: string; params: unknown }> = [];
  const notifier: Notifier = {
    notify: async (target, method, params) => void sent.push({ target, method, params }),
    closeDeviceSessions: async () => {},
  };
  let clock = 1_000_000;
  const statuses = new Map<string, ResolvedAnswer['status']>();
  const deliveries = new RequesterDeliveries({
    bus,
    notifier,
    logger: pino({ level: 'silent' }),
    now: () => clock,
    answerFor: async (requestId, claimSecret) => {
      const status = statuses.get(requestId);
      if (!status) return null;
      return { requestId, status, deviceId: `device-of-${requestId}`, ...(status === 'approved' ? { token: `token-for-${claimSecret}` } : {}) };
    },
  });
  deliveries.start();

  afterEach(() => {
    sent.length = 0;
    statuses.clear();
  });

  it('delivers the resolution once, to the session that asked, even if the event arrives twice', async () => {
    deliveries.remember('r1', 'session-1', 'secret-1', clock + 300_000);
    statuses.set('r1', 'approved');
    await bus.publish('pairing.resolved', { requestId: 'r1', status: 'approved', deviceId: 'device-of-r1' });
    await bus.publish('pairing.resolved', { requestId: 'r1', status: 'approved', deviceId: 'device-of-r1' });
    await flush();
    expect(sent).toEqual([
      {
        target: { sessionId: 'session-1' },
        method: 'node.pair.resolved',
        params: { requestId: 'r1', status: 'approved', deviceId: 'device-of-r1', token: 'token-for-secret-1' },
      },
    ]);
  });

  it('ignores requests made on other replicas and sessions that closed', async () => {
    statuses.set('elsewhere', 'approved');
    await bus.publish('pairing.resolved', { requestId: 'elsewhere', status: 'approved', deviceId: 'x' });
    deliveries.remember('r2', 'session-2', 'secret-2', clock + 300_000);
    deliveries.forgetSession('session-2');
    statuses.set('r2', 'rejected');
    await bus.publish('pairing.resolved', { requestId: 'r2', status: 'rejected', deviceId: 'x' });
    await flush();
    expect(sent).toEqual([]);
  });

  it('keeps at most MAX_WAITING_REQUESTERS entries and forgets expired ones', () => {
    for (let i = 0; i < MAX_WAITING_REQUESTERS + 50; i++) deliveries.remember(`cap-${i}`, `s-${i}`, 'secret', clock + 1_000);
    expect(deliveries.size).toBe(MAX_WAITING_REQUESTERS);
    clock += 1_000 + 60_000;
    deliveries.remember('fresh', 's', 'secret', clock + 1_000);
    expect(deliveries.size).toBe(1);
  });
});
