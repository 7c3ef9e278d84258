import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig, type GatewayConfig } from '../../src/config/index.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CHART_DIR = join(REPO_ROOT, 'helm', 'openclaw-gateway');

/** A Kubernetes object as rendered; fields are read loosely and asserted by the tests. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

export type RunResult = { status: number; stdout: string; stderr: string };

function run(command: string, args: string[], input?: string): RunResult {
  const res = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (res.error) throw res.error;
  return { status: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

/**
 * The pinned helm binary (scripts/helm.mjs fetches it from the npm registry on first use), or the
 * reason it could not be obtained.
 */
export function obtainHelm(): { helm: string } | { unavailable: string } {
  const res = run(process.execPath, [join(REPO_ROOT, 'scripts', 'helm.mjs'), '--path']);
  if (res.status !== 0) return { unavailable: res.stderr.trim() || `scripts/helm.mjs exited ${res.status}` };
  return { helm: res.stdout.trim() };
}

/** The pinned kubectl (same npm package as helm), else a kubectl on PATH, else why there is none. */
export function obtainKubectl(): { kubectl: string } | { unavailable: string } {
  const res = run(process.execPath, [join(REPO_ROOT, 'scripts', 'helm.mjs'), '--kubectl', '--path']);
  if (res.status === 0) return { kubectl: res.stdout.trim() };
  try {
    if (run('kubectl', ['version', '--client']).status === 0) return { kubectl: 'kubectl' };
  } catch {
    // no kubectl on PATH either
  }
  return { unavailable: res.stderr.trim() || `scripts/helm.mjs --kubectl exited ${res.status}` };
}

/** `helm template` of the chart with the given values (written to a temporary values file). */
export function helmTemplate(
  helm: string,
  values: Record<string, unknown> = {},
  options: { release?: string; namespace?: string; valueFiles?: string[]; extraArgs?: string[] } = {},
): RunResult {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-helm-values-'));
  try {
    const valuesFile = join(dir, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(values));
    const files = [...(options.valueFiles ?? []), valuesFile].flatMap((f) => ['-f', f]);
    return run(helm, [
      'template',
      options.release ?? 'oc',
      CHART_DIR,
      '--namespace',
      options.namespace ?? 'openclaw',
      ...files,
      ...(options.extraArgs ?? []),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders and throws with helm's message on failure. */
export function renderChart(helm: string, values: Record<string, unknown> = {}, valueFiles: string[] = []): Manifest[] {
  const res = helmTemplate(helm, values, { valueFiles });
  if (res.status !== 0) throw new Error(`helm template failed: ${res.stderr}`);
  return parseManifests(res.stdout);
}

export function kustomize(kubectl: string, dir: string): RunResult {
  return run(kubectl, ['kustomize', join(REPO_ROOT, dir)]);
}

/** Every YAML document of a multi-document stream; throws on the first YAML error. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    out.push(value as Manifest);
  }
  return out;
}

/**
 * The raw text of each document of `helm template` output, keyed by its `# Source:` template path
 * (several documents may share one source).
 */
export function documentsBySource(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const chunk of text.split(/^---\n/m)) {
    const match = /^# Source: [^/]+\/(.+)\n/.exec(chunk);
    if (!match) continue;
    const body = chunk.slice(match[0].length);
    out.set(match[1]!, [...(out.get(match[1]!) ?? []), body]);
  }
  return out;
}

export function findOne(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  }
  return found[0]!;
}

export function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => m.kind).sort();
}

// Narrow views of the objects the tests look into.
export type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
};
export type Container = {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name: string; containerPort: number }>;
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
};
export type PodSpec = {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }>;
  volumes?: Array<{ name: string; configMap?: { name: string }; emptyDir?: Record<string, unknown> }>;
};
export type PodTemplate = { metadata: { annotations?: Record<string, string>; labels: Record<string, string> }; spec: PodSpec };

export function podTemplate(workload: Manifest): PodTemplate {
  return (workload.spec as { template: PodTemplate }).template;
}

export function container(workload: Manifest, name: string): Container {
  const found = podTemplate(workload).spec.containers.find((c) => c.name === name);
  if (!found) throw new Error(`${workload.kind}/${workload.metadata.name} has no container ${name}`);
  return found;
}

export function secretData(secret: Manifest): Record<string, string> {
  const data = (secret.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/**
 * The environment the gateway container would see: literal values with $(VAR) references expanded
 * as the kubelet does, secretKeyRefs resolved from the rendered Secrets (a missing optional key is
 * left out; a missing required one throws), and Downward API fields given fixed stand-ins.
 */
export function containerEnvironment(c: Container, secrets: Manifest[]): Record<string, string> {
  const fieldStandIns: Record<string, string> = {
    'metadata.name': 'openclaw-gateway-7d9f-abcde',
    'metadata.namespace': 'openclaw',
    'spec.nodeName': 'node-1',
  };
  const env: Record<string, string> = {};
  for (const variable of c.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = variable.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, ref: string) => env[ref] ?? whole);
      continue;
    }
    const secretRef = variable.valueFrom?.secretKeyRef;
    if (secretRef) {
      const secret = secrets.find((s) => s.metadata.name === secretRef.name);
      const value = secret ? secretData(secret)[secretRef.key] : undefined;
      if (value !== undefined) env[variable.name] = value;
      else if (!secretRef.optional) throw new Error(`${variable.name}: required key ${secretRef.key} missing in Secret ${secretRef.name}`);
      continue;
    }
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    if (fieldPath) {
      const standIn = fieldStandIns[fieldPath];
      if (standIn === undefined) throw new Error(`${variable.name}: unexpected fieldRef ${fieldPath}`);
      env[variable.name] = standIn;
    }
  }
  return env;
}

/**
 * Loads a rendered config file with the product's own loader and validator, with the pod's
 * environment, exactly as `openclaw gateway` would at start (flags aside).
 */
export function loadRenderedConfig(configYaml: string, env: Record<string, string>): GatewayConfig {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-rendered-config-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configYaml);
    return loadConfig({ file, env }).config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type ModelClass = new (data: unknown) => { validate(): void };

/**
 * Validates an object against the Kubernetes OpenAPI schema of its apiVersion/kind, offline, with
 * the schemas compiled into kubernetes-models. Returns the error message, or null when valid.
 */
export async function kubernetesSchemaError(manifest: Manifest): Promise<string | null> {
  const [group, version] = manifest.apiVersion.includes('/') ? manifest.apiVersion.split('/') : ['', manifest.apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}/${manifest.kind}` : `kubernetes-models/${version}/${manifest.kind}`;
  let Model: ModelClass;
  try {
    const loaded = (await import(modulePath)) as Record<string, ModelClass>;
    const found = loaded[manifest.kind];
    if (!found) return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
    Model = found;
  } catch {
    return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
  }
  try {
    new Model(manifest).validate();
    return null;
  } catch (error) {
    return `${manifest.kind}/${manifest.metadata.name}: ${(error as Error).message}`;
  }
}

/** Schema errors of all objects except Prometheus Operator CRDs (not in kubernetes-models). */
export async function schemaErrors(manifests: Manifest[]): Promise<string[]> {
  const errors: string[] = [];
  for (const manifest of manifests) {
    if (manifest.apiVersion.startsWith('monitoring.coreos.com/')) continue;
    const error = await kubernetesSchemaError(manifest);
    if (error) errors.push(error);
  }
  return errors;
}
