import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  container,
  containerEnvironment,
  findOne,
  kustomize,
  loadRenderedConfig,
  obtainKubectl,
  obtainHelm,
  parseManifests,
  podTemplate,
  renderChart,
  schemaErrors,
  type Manifest,
} from './manifests.js';

const obtainedKubectl = obtainKubectl();
const kubectl = 'kubectl' in obtainedKubectl ? obtainedKubectl.kubectl : '';
if (!kubectl) {
  console.warn(`test/deploy/kustomize.test.ts skipped: no kubectl (${'unavailable' in obtainedKubectl ? obtainedKubectl.unavailable : ''})`);
}

/** The Secret users create out of band (the manifests never carry secrets). */
const userSecret: Manifest = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'openclaw-gateway' },
  data: {
    'gateway-token': Buffer.from('c'.repeat(64)).toString('base64'),
    'redis-password': Buffer.from('d'.repeat(64)).toString('base64'),
  },
};

function render(dir: string): Manifest[] {
  const res = kustomize(kubectl, dir);
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${res.stderr}`);
  return parseManifests(res.stdout);
}

function configMapOf(manifests: Manifest[], deployment: Manifest): string {
  const volume = podTemplate(deployment).spec.volumes!.find((v) => v.name === 'config')!;
  const configMap = findOne(manifests, 'ConfigMap', volume.configMap!.name);
  return (configMap.data as Record<string, string>)['config.yaml']!;
}

describe.skipIf(!kubectl)('kustomize manifests k8s/', () => {
  it('k8s/overlays/example renders 3 gateway replicas + Redis, schema-valid, in the overlay namespace', async () => {
    const manifests = render('k8s/overlays/example');
    expect(await schemaErrors(manifests)).toEqual([]);
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Ingress',
      'Namespace',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'Service',
      'Service',
      'ServiceAccount',
      'StatefulSet',
    ]);
    for (const m of manifests.filter((m) => m.kind !== 'Namespace')) expect(m.metadata.namespace, m.kind).toBe('openclaw');
    // Secrets are created by the user, never committed.
    expect(manifests.some((m) => m.kind === 'Secret')).toBe(false);

    const deployment = findOne(manifests, 'Deployment', 'openclaw-gateway');
    expect((deployment.spec as { replicas: number }).replicas).toBe(3);
    expect(container(deployment, 'gateway').image).toBe('ghcr.io/openclaw/openclaw-gateway:0.1.0');
    const redis = findOne(manifests, 'StatefulSet', 'openclaw-gateway-redis');
    expect((redis.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates).toHaveLength(1);

    // The config the pods load, with the user's Secret, passes the product's own validator.
    const env = containerEnvironment(container(deployment, 'gateway'), [userSecret]);
    const config = loadRenderedConfig(configMapOf(manifests, deployment), env);
    expect(config.redis.url).toBe('redis://openclaw-gateway-redis:6379');
    expect(findOne(manifests, 'Service', 'openclaw-gateway-redis')).toBeDefined();
    expect(config.redis.password).toBe('d'.repeat(64));
    expect(config.auth.token).toBe('c'.repeat(64));
    expect(config.bind).toBe('lan');
    expect(config.trustedProxies.length).toBeGreaterThan(0);
    const redisEnv = containerEnvironment(container(redis, 'redis'), [userSecret]);
    expect(redisEnv.REDIS_PASSWORD).toBe(config.redis.password);

    // The generated ConfigMap name carries a content hash, so a config edit rolls the pods.
    expect(podTemplate(deployment).spec.volumes!.find((v) => v.name === 'config')!.configMap!.name).toMatch(/^openclaw-gateway-[a-z0-9]{10}$/);

    const ingress = findOne(manifests, 'Ingress');
    expect(Number(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
  });

  it('the gateway refuses to start without the Secret: the token is a required key', () => {
    const deployment = findOne(render('k8s/base'), 'Deployment', 'openclaw-gateway');
    expect(() => containerEnvironment(container(deployment, 'gateway'), [])).toThrow(/gateway-token missing in Secret openclaw-gateway/);
  });

  const obtained = obtainHelm();
  it.skipIf(!('helm' in obtained))('k8s/base matches the chart with values-ha.yaml: same pod hardening, probes, env and lifecycle', () => {
    const base = render('k8s/base');
    const chart = renderChart((obtained as { helm: string }).helm, {}, [join(CHART_DIR, 'values-ha.yaml')]);
    const pairs: Array<[Manifest, Manifest, string]> = [
      [findOne(base, 'Deployment'), findOne(chart, 'Deployment'), 'gateway'],
      [findOne(base, 'StatefulSet'), findOne(chart, 'StatefulSet'), 'redis'],
    ];
    for (const [fromBase, fromChart, name] of pairs) {
      const [b, c] = [podTemplate(fromBase).spec, podTemplate(fromChart).spec];
      expect((fromBase.spec as { replicas: number }).replicas).toBe((fromChart.spec as { replicas: number }).replicas);
      expect(b.securityContext).toEqual(c.securityContext);
      expect(b.automountServiceAccountToken).toBe(c.automountServiceAccountToken);
      expect(b.enableServiceLinks).toBe(c.enableServiceLinks);
      expect(b.terminationGracePeriodSeconds).toBe(c.terminationGracePeriodSeconds);
      const [bc, cc] = [container(fromBase, name), container(fromChart, name)];
      for (const field of ['securityContext', 'startupProbe', 'livenessProbe', 'readinessProbe', 'lifecycle', 'resources', 'ports', 'volumeMounts'] as const) {
        expect(bc[field], `${name}.${field}`).toEqual(cc[field]);
      }
      expect((bc.env ?? []).map((e) => e.name)).toEqual((cc.env ?? []).map((e) => e.name));
    }
    expect(podTemplate(findOne(base, 'Deployment')).spec.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(
      podTemplate(findOne(chart, 'Deployment')).spec.topologySpreadConstraints?.map((t) => t.topologyKey),
    );
    expect(findOne(base, 'PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1 });
  });
});
