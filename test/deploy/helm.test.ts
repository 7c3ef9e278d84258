import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  container,
  containerEnvironment,
  documentsBySource,
  findOne,
  helmTemplate,
  kinds,
  loadRenderedConfig,
  obtainHelm,
  parseManifests,
  podTemplate,
  renderChart,
  schemaErrors,
  secretData,
  type Manifest,
} from './manifests.js';

const obtained = obtainHelm();
const helm = 'helm' in obtained ? obtained.helm : '';
if (!helm) {
  console.warn(`test/deploy/helm.test.ts skipped: no helm binary (${'unavailable' in obtained ? obtained.unavailable : ''})`);
}
const HA_VALUES = join(CHART_DIR, 'values-ha.yaml');
const FULLNAME = 'oc-openclaw-gateway';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function gatewayDeployment(manifests: Manifest[]): Manifest {
  return findOne(manifests, 'Deployment', FULLNAME);
}

function configYaml(manifests: Manifest[]): string {
  const data = findOne(manifests, 'ConfigMap', FULLNAME).data as Record<string, string>;
  return data['config.yaml']!;
}

/** The config the gateway container would load at start, through the product's own validator. */
function effectiveConfig(manifests: Manifest[], extraSecrets: Manifest[] = []) {
  const env = containerEnvironment(container(gatewayDeployment(manifests), 'gateway'), [
    ...manifests.filter((m) => m.kind === 'Secret'),
    ...extraSecrets,
  ]);
  return { env, config: loadRenderedConfig(configYaml(manifests), env) };
}

async function expectValidObjects(manifests: Manifest[]): Promise<void> {
  expect(await schemaErrors(manifests)).toEqual([]);
  for (const m of manifests) {
    expect(m.metadata.name, `${m.kind} name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    if (m.kind !== 'Namespace') expect(m.metadata.namespace).toBe('openclaw');
  }
}

function fakeSecret(name: string, data: Record<string, string>): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

describe.skipIf(!helm)('helm chart helm/openclaw-gateway', () => {
  it('passes `helm lint --strict` with the defaults, the HA example and every optional feature on', () => {
    const valueSets: string[][] = [
      [],
      ['-f', HA_VALUES],
      [
        '-f',
        HA_VALUES,
        '--set',
        'networkPolicy.enabled=true,networkPolicy.egress.enabled=true,serviceMonitor.enabled=true,autoscaling.enabled=true',
      ],
    ];
    for (const args of valueSets) {
      const res = spawnSync(helm, ['lint', '--strict', CHART_DIR, ...args], { encoding: 'utf8' });
      expect(res.status, `${args.join(' ')}\n${res.stdout}${res.stderr}`).toBe(0);
      expect(res.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(res.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('renders the defaults: one replica, embedded store, generated token, schema-valid objects', async () => {
    const manifests = renderChart(helm);
    await expectValidObjects(manifests);
    expect(kinds(manifests)).toEqual(['ConfigMap', 'Deployment', 'Pod', 'Secret', 'Service', 'ServiceAccount']);

    const deployment = gatewayDeployment(manifests);
    expect((deployment.spec as { replicas: number }).replicas).toBe(1);

    const { env, config } = effectiveConfig(manifests);
    expect(config.bind).toBe('lan');
    expect(config.port).toBe(18789);
    expect(config.redis.url).toBe('');
    expect(config.auth.allowLoopback).toBe(false);
    expect(config.auth.token).toMatch(/^[0-9a-f]{64}$/);
    expect(config.replicaId).toBe('openclaw-gateway-7d9f-abcde');
    expect(config.stateDir).toBe('/var/lib/openclaw');
    expect(env.OPENCLAW_GATEWAY_URL).toBe('http://127.0.0.1:18789');

    const service = findOne(manifests, 'Service', FULLNAME);
    const ports = (service.spec as { ports: Array<{ name: string; port: number; targetPort: string }> }).ports;
    expect(ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 18789, 'http'],
      ['metrics', 9464, 'metrics'],
    ]);
  });

  it('hardens the gateway pod: non-root, read-only root, no capabilities, seccomp, no service-account token', () => {
    const manifests = renderChart(helm, {}, [HA_VALUES]);
    const template = podTemplate(gatewayDeployment(manifests));
    const pod = template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(findOne(manifests, 'ServiceAccount').automountServiceAccountToken).toBe(false);

    const gateway = container(gatewayDeployment(manifests), 'gateway');
    expect(gateway.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // The writable paths are emptyDirs; the config is a read-only ConfigMap mount.
    const mounts = Object.fromEntries((gateway.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    const volumes = Object.fromEntries((pod.volumes ?? []).map((v) => [v.name, v]));
    expect(volumes[mounts['/tmp']!.name]!.emptyDir).toBeDefined();
    expect(volumes[mounts['/var/lib/openclaw']!.name]!.emptyDir).toBeDefined();
    expect(mounts['/etc/openclaw']!.readOnly).toBe(true);
    expect(volumes[mounts['/etc/openclaw']!.name]!.configMap?.name).toBe(FULLNAME);

    expect(gateway.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(gateway.resources?.limits).toMatchObject({ memory: expect.any(String) });

    const redis = findOne(manifests, 'StatefulSet');
    expect(podTemplate(redis).spec.automountServiceAccountToken).toBe(false);
    expect(container(redis, 'redis').securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const testPod = findOne(manifests, 'Pod');
    expect((testPod.spec as { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(false);
  });

  it('probes /healthz and /readyz, and the grace period covers the preStop sleep and the drain', () => {
    const manifests = renderChart(helm, { gateway: { shutdown: { drainSeconds: 12 } }, lifecycle: { preStopSleepSeconds: 7 } });
    const gateway = container(gatewayDeployment(manifests), 'gateway');
    expect(gateway.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(gateway.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(gateway.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(gateway.lifecycle?.preStop?.exec?.command).toEqual(['sleep', '7']);
    expect(gateway.ports).toEqual([
      { name: 'http', containerPort: 18789, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
    ]);
    const grace = podTemplate(gatewayDeployment(manifests)).spec.terminationGracePeriodSeconds!;
    expect(grace).toBeGreaterThan(7 + 12);
    expect(effectiveConfig(manifests).config.shutdown.drainSeconds).toBe(12);

    const tooShort = helmTemplate(helm, { terminationGracePeriodSeconds: 8 });
    expect(tooShort.status).not.toBe(0);
    expect(tooShort.stderr).toContain('terminationGracePeriodSeconds (8) must cover lifecycle.preStopSleepSeconds + gateway.shutdown.drainSeconds (10)');
  });

  it('spreads replicas over nodes and zones and tells OpenTelemetry and the gateway which pod it is', () => {
    const manifests = renderChart(helm, {}, [HA_VALUES]);
    const pod = podTemplate(gatewayDeployment(manifests)).spec;
    expect(pod.topologySpreadConstraints?.map((c) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const constraint of pod.topologySpreadConstraints ?? []) {
      expect(constraint.labelSelector.matchLabels['app.kubernetes.io/component']).toBe('gateway');
    }
    const { env } = effectiveConfig(manifests);
    expect(env.OPENCLAW_REPLICA_ID).toBe('openclaw-gateway-7d9f-abcde');
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toBe(
      'k8s.pod.name=openclaw-gateway-7d9f-abcde,k8s.namespace.name=openclaw,k8s.node.name=node-1,service.instance.id=openclaw-gateway-7d9f-abcde',
    );
    expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
    expect(env.OTEL_TRACES_SAMPLER_ARG).toBe('0.1');
    expect(env.OTEL_SERVICE_NAME).toBe('openclaw-gateway');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();

    const traced = effectiveConfig(renderChart(helm, { otel: { endpoint: 'http://otel-collector.observability:4318' } })).env;
    expect(traced.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector.observability:4318');
  });

  it('keeps every secret out of the ConfigMap and hands them to the pod from the Secret', () => {
    const secrets = {
      token: 'tok-5b7e1c0a9f3d4e2b8a6c1d0e9f8a7b6c',
      password: 'pw-Correct-Horse-Battery-Staple-91',
      apiKey: 'sk-upstream-0f1e2d3c4b5a69788796a5b4',
      redisPassword: 'redis-pw-77aa88bb99cc00dd11ee22ff',
    };
    const res = helmTemplate(helm, {
      replicaCount: 2,
      gateway: {
        auth: { token: secrets.token, password: secrets.password },
        upstream: { url: 'http://vllm:8000/v1', apiKey: secrets.apiKey, model: 'llama' },
      },
      externalRedis: { url: 'rediss://redis.example.internal:6380', password: secrets.redisPassword },
    });
    expect(res.status, res.stderr).toBe(0);
    const manifests = parseManifests(res.stdout);
    const configMapText = documentsBySource(res.stdout).get('templates/configmap.yaml')!.join('\n');
    const deploymentText = documentsBySource(res.stdout).get('templates/deployment.yaml')!.join('\n');
    for (const secret of Object.values(secrets)) {
      expect(configMapText).not.toContain(secret);
      expect(deploymentText).not.toContain(secret);
    }
    expect(secretData(findOne(manifests, 'Secret'))).toEqual({
      'gateway-token': secrets.token,
      'gateway-password': secrets.password,
      'upstream-api-key': secrets.apiKey,
      'redis-password': secrets.redisPassword,
    });
    const { config } = effectiveConfig(manifests);
    expect(config.auth.token).toBe(secrets.token);
    expect(config.auth.password).toBe(secrets.password);
    expect(config.upstream.apiKey).toBe(secrets.apiKey);
    expect(config.upstream.url).toBe('http://vllm:8000/v1');
    expect(config.redis.password).toBe(secrets.redisPassword);
    expect(config.redis.url).toBe('rediss://redis.example.internal:6380');

    const extra = effectiveConfig(
      renderChart(helm, { gateway: { upstream: { url: 'http://vllm:8000/v1' }, extraConfig: { upstream: { timeoutSeconds: 30 }, http: { bodyLimitBytes: 2_097_152 } } } }),
    ).config;
    expect(extra.upstream).toMatchObject({ url: 'http://vllm:8000/v1', timeoutSeconds: 30 });
    expect(extra.http.bodyLimitBytes).toBe(2_097_152);

    const secretInExtra = helmTemplate(helm, { gateway: { extraConfig: { auth: { token: 'x' } } } });
    expect(secretInExtra.status).not.toBe(0);
    expect(secretInExtra.stderr).toContain('gateway.extraConfig.auth.token is a secret and must not go to the ConfigMap');
    const noCredential = helmTemplate(helm, { gateway: { auth: { generateToken: false } } });
    expect(noCredential.status).not.toBe(0);
    expect(noCredential.stderr).toContain('the pod listens beyond loopback, so it needs a credential');
    const passwordOnly = effectiveConfig(renderChart(helm, { gateway: { auth: { generateToken: false, password: 'only-a-password' } } })).config;
    expect(passwordOnly.auth).toMatchObject({ token: '', password: 'only-a-password' });
    const passwordInUrl = helmTemplate(helm, { externalRedis: { url: 'redis://:hunter2@redis:6379' } });
    expect(passwordInUrl.status).not.toBe(0);
    expect(passwordInUrl.stderr).toContain('externalRedis.url must not contain a password');
  });

  it('rolls the pods on config or secret changes: checksum annotations of the rendered ConfigMap and Secret', () => {
    const annotationsFor = (values: Record<string, unknown>) => {
      const res = helmTemplate(helm, values);
      expect(res.status, res.stderr).toBe(0);
      const annotations = podTemplate(gatewayDeployment(parseManifests(res.stdout))).metadata.annotations ?? {};
      return { annotations, sources: documentsBySource(res.stdout) };
    };
    const base = { gateway: { auth: { token: 'a'.repeat(64) } } };
    const { annotations, sources } = annotationsFor(base);
    const digestsOf = (body: string) => [sha256(body), sha256(`\n${body}`)];
    expect(digestsOf(sources.get('templates/configmap.yaml')![0]!)).toContain(annotations['checksum/config']);
    expect(digestsOf(sources.get('templates/secret.yaml')![0]!)).toContain(annotations['checksum/secret']);

    const newLogLevel = annotationsFor({ gateway: { ...base.gateway, log: { level: 'debug' } } }).annotations;
    expect(newLogLevel['checksum/config']).not.toBe(annotations['checksum/config']);
    expect(newLogLevel['checksum/secret']).toBe(annotations['checksum/secret']);

    const newToken = annotationsFor({ gateway: { auth: { token: 'b'.repeat(64) } } }).annotations;
    expect(newToken['checksum/secret']).not.toBe(annotations['checksum/secret']);
    expect(newToken['checksum/config']).toBe(annotations['checksum/config']);

    // A generated token is the same in the Secret and in the checksum computed from it.
    const generated = annotationsFor({});
    expect(digestsOf(generated.sources.get('templates/secret.yaml')![0]!)).toContain(generated.annotations['checksum/secret']);
  });

  it('HA example: 3 replicas, bundled Redis StatefulSet with a PVC, PDB, WebSocket-friendly ingress', async () => {
    const manifests = renderChart(helm, {}, [HA_VALUES]);
    await expectValidObjects(manifests);
    expect(kinds(manifests)).toEqual([
      'ConfigMap',
      'Deployment',
      'Ingress',
      'Pod',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'Service',
      'Service',
      'ServiceAccount',
      'StatefulSet',
    ]);
    expect((gatewayDeployment(manifests).spec as { replicas: number }).replicas).toBe(3);

    const redis = findOne(manifests, 'StatefulSet', `${FULLNAME}-redis`);
    const redisSpec = redis.spec as { serviceName: string; volumeClaimTemplates: Array<{ metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }> };
    expect(redisSpec.volumeClaimTemplates.map((t) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '1Gi']]);
    expect(findOne(manifests, 'Service', redisSpec.serviceName)).toBeDefined();
    const redisCommand = container(redis, 'redis');
    expect(JSON.stringify(redisCommand)).toContain('--maxmemory-policy noeviction');
    expect(JSON.stringify(redisCommand)).toContain('--appendonly yes');

    const { config } = effectiveConfig(manifests);
    expect(config.redis.url).toBe(`redis://${FULLNAME}-redis.openclaw.svc:6379`);
    expect(findOne(manifests, 'Service', `${FULLNAME}-redis`)).toBeDefined();
    // The gateway authenticates to Redis with the password Redis requires.
    const redisEnv = containerEnvironment(redisCommand, manifests.filter((m) => m.kind === 'Secret'));
    expect(redisEnv.REDIS_PASSWORD).toMatch(/^[0-9a-f]{64}$/);
    expect(config.redis.password).toBe(redisEnv.REDIS_PASSWORD);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8']);

    const pdb = findOne(manifests, 'PodDisruptionBudget');
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/component': 'gateway' } } });

    const ingress = findOne(manifests, 'Ingress');
    const annotations = ingress.metadata.annotations ?? {};
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      rules: [{ host: 'openclaw.example.com', http: { paths: [{ path: '/', backend: { service: { name: FULLNAME, port: { name: 'http' } } } }] } }],
    });
  });

  it('external Redis: standalone URL, Sentinel and Cluster, password from an existing Secret', async () => {
    const passwordSecret = fakeSecret('shared-redis', { password: 'from-existing-secret' });
    const cases: Array<[Record<string, unknown>, (c: ReturnType<typeof effectiveConfig>['config']) => void]> = [
      [{ url: 'redis://redis-master.data:6379' }, (c) => expect(c.redis.url).toBe('redis://redis-master.data:6379')],
      [
        { sentinels: ['sentinel-0.data:26379', 'sentinel-1.data:26379'], sentinelName: 'mymaster' },
        (c) => {
          expect(c.redis.sentinels).toEqual(['sentinel-0.data:26379', 'sentinel-1.data:26379']);
          expect(c.redis.sentinelName).toBe('mymaster');
        },
      ],
      [{ clusterNodes: ['redis-0.data:6379', 'redis-1.data:6379', 'redis-2.data:6379'] }, (c) => expect(c.redis.clusterNodes).toHaveLength(3)],
    ];
    for (const [externalRedis, check] of cases) {
      const manifests = renderChart(helm, {
        replicaCount: 3,
        externalRedis: { ...externalRedis, existingSecret: 'shared-redis', existingSecretPasswordKey: 'password' },
      });
      await expectValidObjects(manifests);
      expect(manifests.some((m) => m.kind === 'StatefulSet')).toBe(false);
      const { config } = effectiveConfig(manifests, [passwordSecret]);
      check(config);
      expect(config.redis.password).toBe('from-existing-secret');
      expect(configYaml(manifests)).not.toContain('from-existing-secret');
    }

    const twoModes = helmTemplate(helm, { externalRedis: { url: 'redis://r:6379', clusterNodes: ['r:6379'] } });
    expect(twoModes.status).not.toBe(0);
    expect(twoModes.stderr).toContain('set only one of externalRedis.url, externalRedis.sentinels or externalRedis.clusterNodes');
    const noMaster = helmTemplate(helm, { externalRedis: { sentinels: ['s:26379'] } });
    expect(noMaster.status).not.toBe(0);
    expect(noMaster.stderr).toContain('externalRedis.sentinelName is required');
  });

  it('optional features: HPA, NetworkPolicy (gateway and Redis), ServiceMonitor on the metrics port', async () => {
    const manifests = renderChart(
      helm,
      {
        autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12 },
        networkPolicy: {
          enabled: true,
          ingressFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
          egress: { enabled: true, extra: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }] }] },
        },
        serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
      },
      [HA_VALUES],
    );
    await expectValidObjects(manifests);

    expect((gatewayDeployment(manifests).spec as { replicas?: number }).replicas).toBeUndefined();
    const hpa = findOne(manifests, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: FULLNAME }, minReplicas: 3, maxReplicas: 12 });

    const gatewayPolicy = findOne(manifests, 'NetworkPolicy', FULLNAME);
    expect(gatewayPolicy.spec).toMatchObject({
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'gateway' } },
      policyTypes: ['Ingress', 'Egress'],
    });
    const ingressRules = (gatewayPolicy.spec as { ingress: Array<{ ports: Array<{ port: string }>; from?: unknown[] }> }).ingress;
    const httpRule = ingressRules.find((r) => r.ports[0]!.port === 'http')!;
    expect(httpRule.from).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } });
    // The `helm test` pod must still reach the gateway.
    const testPodLabels = findOne(manifests, 'Pod').metadata.labels!;
    expect(httpRule.from).toContainEqual({ podSelector: { matchLabels: testPodLabels } });
    expect(JSON.stringify(gatewayPolicy.spec)).toContain('10.20.0.0/16');

    const redisPolicy = findOne(manifests, 'NetworkPolicy', `${FULLNAME}-redis`);
    expect(redisPolicy.spec).toMatchObject({
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'redis' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'gateway' } } }], ports: [{ port: 6379 }] }],
    });

    const monitor = findOne(manifests, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels?.release).toBe('prometheus');
    const service = findOne(manifests, 'Service', FULLNAME);
    const servicePortNames = (service.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name);
    const endpoints = (monitor.spec as { endpoints: Array<{ port: string; path: string }> }).endpoints;
    expect(endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    expect(servicePortNames).toContain('metrics');
    // The ServiceMonitor selects the gateway Service (and only by labels that Service carries).
    const selector = (monitor.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(service.metadata.labels).toMatchObject(selector);
    expect(findOne(manifests, 'Service', `${FULLNAME}-redis`).metadata.labels).not.toMatchObject(selector);
  });

  it('ships the Grafana dashboard as a sidecar ConfigMap only when asked, using metric names the gateway exports', async () => {
    expect(renderChart(helm, {}).some((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-dashboard'))).toBe(false);
    const manifests = renderChart(helm, { metrics: { dashboard: { enabled: true, annotations: { grafana_folder: 'OpenClaw' } } } });
    await expectValidObjects(manifests);
    const dashboard = findOne(manifests, 'ConfigMap', `${FULLNAME}-dashboard`);
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(dashboard.metadata.annotations?.grafana_folder).toBe('OpenClaw');
    const json = (dashboard.data as Record<string, string>)['openclaw-gateway.json']!;
    const parsed = JSON.parse(json) as { panels: unknown[] };
    expect(parsed.panels.length).toBeGreaterThan(3);
    for (const metric of ['openclaw_auth_attempts_total', 'openclaw_ws_sessions', 'openclaw_http_request_duration_seconds']) {
      expect(json).toContain(metric);
    }
  });

  it('refuses more than one replica, or an HPA, without Redis', () => {
    const guard = 'needs a shared Redis: the embedded store is per replica';
    const twoReplicas = helmTemplate(helm, { replicaCount: 2 });
    expect(twoReplicas.status).not.toBe(0);
    expect(twoReplicas.stderr).toContain(guard);
    expect(twoReplicas.stderr).toContain('Set redis.enabled=true, or externalRedis.url');
    const hpa = helmTemplate(helm, { autoscaling: { enabled: true } });
    expect(hpa.status).not.toBe(0);
    expect(hpa.stderr).toContain(guard);

    expect(helmTemplate(helm, { replicaCount: 2, redis: { enabled: true } }).status).toBe(0);
    expect(helmTemplate(helm, { autoscaling: { enabled: true }, externalRedis: { url: 'redis://r:6379' } }).status).toBe(0);
    const both = helmTemplate(helm, { redis: { enabled: true }, externalRedis: { url: 'redis://r:6379' } });
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('set either redis.enabled (bundled Redis) or externalRedis.*, not both');
  });

  it('values.schema.json rejects bad enums, wrong types and missing required keys', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ gateway: { tailscale: { mode: 'on' } } }, "at '/gateway/tailscale/mode'"],
      [{ gateway: { bind: 'everywhere' } }, "at '/gateway/bind'"],
      [{ gateway: { auth: { rateLimit: { onStoreFailure: 'allow' } } } }, "at '/gateway/auth/rateLimit/onStoreFailure'"],
      [{ gateway: { log: { level: 'verbose' } } }, "at '/gateway/log/level'"],
      [{ gateway: { port: '18789' } }, "at '/gateway/port'"],
      [{ replicaCount: 'three' }, "at '/replicaCount'"],
      [{ gateway: { port: null } }, "missing property 'port'"],
      [{ replicaCont: 3 }, 'replicaCont'],
    ];
    for (const [values, where] of cases) {
      const res = helmTemplate(helm, values);
      expect(res.status, JSON.stringify(values)).not.toBe(0);
      expect(res.stderr).toContain("values don't meet the specifications of the schema");
      expect(res.stderr, JSON.stringify(values)).toContain(where);
    }
    for (const bind of ['loopback', 'lan', '10.1.2.3', 'fd00::1']) {
      expect(helmTemplate(helm, { gateway: { bind } }).status, bind).toBe(0);
    }
  });

  it('existingSecret: renders no Secret and reads the named keys of the given one', async () => {
    const manifests = renderChart(helm, {
      existingSecret: 'my-openclaw',
      existingSecretKeys: { token: 'token', password: 'pw', upstreamApiKey: 'upstream', redisPassword: 'redis' },
      replicaCount: 2,
      redis: { enabled: true },
    });
    await expectValidObjects(manifests);
    expect(manifests.some((m) => m.kind === 'Secret')).toBe(false);
    const given = fakeSecret('my-openclaw', { token: 't'.repeat(40), redis: 'r'.repeat(40) });
    const { config } = effectiveConfig(manifests, [given]);
    expect(config.auth.token).toBe('t'.repeat(40));
    expect(config.auth.password).toBe('');
    expect(config.redis.password).toBe('r'.repeat(40));
    const redisEnv = containerEnvironment(container(findOne(manifests, 'StatefulSet'), 'redis'), [given]);
    expect(redisEnv.REDIS_PASSWORD).toBe('r'.repeat(40));
    expect(podTemplate(gatewayDeployment(manifests)).metadata.annotations?.['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('NOTES.txt says how to read the token and warns about an ingress without trustedProxies', () => {
    const install = (...args: string[]) => {
      const res = spawnSync(helm, ['install', 'oc', CHART_DIR, '--namespace', 'openclaw', '--dry-run=client', ...args], { encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
      return res.stdout.slice(res.stdout.indexOf('NOTES:'));
    };
    const plain = install();
    expect(plain).toContain(`kubectl -n openclaw get secret ${FULLNAME} -o jsonpath='{.data.gateway-token}' | base64 -d`);
    expect(plain).toContain(`kubectl -n openclaw port-forward svc/${FULLNAME} 18789:18789`);
    expect(plain).toContain('embedded store (one replica only');
    expect(install('--set', 'ingress.enabled=true')).toContain('WARNING: gateway.trustedProxies is empty');
    const ha = install('-f', HA_VALUES);
    expect(ha).not.toContain('WARNING');
    expect(ha).toContain('export OPENCLAW_GATEWAY_URL=http://openclaw.example.com');
    expect(ha).toContain(`bundled Redis (${FULLNAME}-redis)`);
  });

  it('`helm test` pod checks /healthz and an authenticated /v1/models', () => {
    const manifests = renderChart(helm);
    const pod = findOne(manifests, 'Pod', `${FULLNAME}-test`);
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const check = (pod.spec as { containers: Array<{ args: string[]; env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> }> }).containers[0]!;
    const script = check.args.join('\n');
    expect(script).toContain('/healthz');
    expect(script).toContain('/v1/models');
    expect(script).toContain('Authorization: Bearer');
    expect(check.env.find((e) => e.name === 'OPENCLAW_GATEWAY_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: FULLNAME,
      key: 'gateway-token',
      optional: true,
    });
  });
});
