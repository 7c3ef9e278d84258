import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';
import { GatewayMetrics } from '../../../src/telemetry/GatewayMetrics.js';
import { observeStoreErrors } from '../../../src/telemetry/observeStoreErrors.js';

const DASHBOARD = join(import.meta.dirname, '../../../helm/openclaw-gateway/dashboards/openclaw-gateway.json');

async function valueOf(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((value) =>
    Object.entries(labels).every(([key, expected]) => String((value.labels as Record<string, unknown>)[key]) === expected) &&
    Object.keys(value.labels).length === Object.keys(labels).length,
  );
  return match?.value;
}

describe('GatewayMetrics', () => {
  it('maps auth outcomes to method and result labels, never an identity', async () => {
    const metrics = new GatewayMetrics({ version: 'test', defaultMetrics: false });
    metrics.authOutcome({ ok: true, identity: { method: 'device', identity: 'device:abc', role: 'node', deviceId: 'abc' } });
    metrics.authOutcome({ ok: false, type: 'unauthorized', reason: 'invalid credentials' });
    metrics.authOutcome({ ok: false, type: 'rate_limited', retryAfterSeconds: 5 });
    metrics.authOutcome({ ok: false, type: 'unavailable', reason: 'store down' });
    expect(await valueOf(metrics, 'openclaw_auth_attempts_total', { method: 'device', result: 'success' })).toBe(1);
    expect(await valueOf(metrics, 'openclaw_auth_attempts_total', { method: 'none', result: 'failure' })).toBe(1);
    expect(await valueOf(metrics, 'openclaw_auth_attempts_total', { method: 'none', result: 'rate_limited' })).toBe(1);
    expect(await valueOf(metrics, 'openclaw_auth_attempts_total', { method: 'none', result: 'unavailable' })).toBe(1);
    const text = await metrics.render();
    expect(text).not.toContain('abc');
  });

  it('counts sessions by role at scrape time, and the status class per hundred', async () => {
    const metrics = new GatewayMetrics({ version: 'test', defaultMetrics: false });
    const sessions: Array<{ role?: 'control' | 'node' | 'webchat' }> = [{ role: 'control' }, { role: 'control' }, {}, { role: 'node' }];
    metrics.observeWsSessions(() => sessions);
    expect(await valueOf(metrics, 'openclaw_ws_sessions', { role: 'control' })).toBe(2);
    expect(await valueOf(metrics, 'openclaw_ws_sessions', { role: 'node' })).toBe(1);
    expect(await valueOf(metrics, 'openclaw_ws_sessions', { role: 'webchat' })).toBe(0);
    sessions.splice(0, 2);
    expect(await valueOf(metrics, 'openclaw_ws_sessions', { role: 'control' })).toBe(0);
    metrics.httpRequest('/v1/models', 204, 0.01);
    metrics.httpRequest('/v1/models', 503, 0.01);
    metrics.httpRequest('unknown', 404, 0.01);
    const text = await metrics.render();
    expect(text).toContain('openclaw_http_request_duration_seconds_count{route="/v1/models",status_class="2xx"} 1');
    expect(text).toContain('openclaw_http_request_duration_seconds_count{route="/v1/models",status_class="5xx"} 1');
    expect(text).toContain('openclaw_http_request_duration_seconds_count{route="unknown",status_class="4xx"} 1');
  });

  it('uses a registry of its own: two instances do not share counters', async () => {
    const first = new GatewayMetrics({ version: 'test', defaultMetrics: false });
    const second = new GatewayMetrics({ version: 'test', defaultMetrics: false });
    first.busError();
    expect(await valueOf(first, 'openclaw_cluster_bus_errors_total')).toBe(1);
    expect(await valueOf(second, 'openclaw_cluster_bus_errors_total')).toBe(0);
  });

  it('has every metric the Grafana dashboard queries', async () => {
    const metrics = new GatewayMetrics({ version: 'test' });
    const exposed = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    const queried = new Set(readFileSync(DASHBOARD, 'utf8').match(/\b(?:openclaw|process|nodejs)_\w+/g) ?? []);
    expect(queried.size).toBeGreaterThan(5);
    for (const name of queried) {
      const family = name.replace(/_(bucket|count|sum)$/, '');
      expect(exposed.has(name) || exposed.has(family), `${name} is not exposed`).toBe(true);
    }
  });
});

describe('observeStoreErrors', () => {
  it('counts rejected operations by method name and still rejects to the caller', async () => {
    const metrics = new GatewayMetrics({ version: 'test', defaultMetrics: false });
    const failing = {
      kind: 'embedded',
      getDevice: async () => {
        throw new Error('disk on fire');
      },
      listDevices: async () => [],
    } as unknown as Store;
    const store = observeStoreErrors(failing, metrics);
    await expect(store.getDevice('d1')).rejects.toThrow('disk on fire');
    await expect(store.listDevices()).resolves.toEqual([]);
    expect(store.kind).toBe('embedded');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await valueOf(metrics, 'openclaw_store_errors_total', { operation: 'getDevice' })).toBe(1);
    expect(await valueOf(metrics, 'openclaw_store_errors_total', { operation: 'listDevices' })).toBeUndefined();
  });
});
