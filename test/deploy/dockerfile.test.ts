import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './manifests.js';

// No container engine runs here: these checks keep the Dockerfile consistent with the repository
// (build inputs exist and survive .dockerignore) and with the chart (user, ports, entrypoint).
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const ignoreRules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/**
 * .dockerignore semantics for the rule shapes used here (`*`, `!file`, `!dir/`, `dir/**\/*.ext`): a rule
 * that matches a path or one of its parent directories applies to it; the last applying rule wins.
 */
function sentToBuilder(path: string): boolean {
  const segments = path.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of ignoreRules) {
    const negated = rule.startsWith('!');
    const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '');
    const regex = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\u0000/g, '(.*/)?')}$`,
    );
    if (candidates.some((c) => regex.test(c))) included = negated;
  }
  return included;
}

describe('Dockerfile', () => {
  it('builds in a node:24-slim builder and runs as UID 10001 on node:24-slim', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    expect(dockerfile).toContain('RUN npm ci --ignore-scripts');
    expect(dockerfile).toContain('npm prune --omit=dev');
    expect(dockerfile).toMatch(/^ARG OPENCLAW_UID=10001$/m);
    expect(dockerfile).toMatch(/^USER \$\{OPENCLAW_UID\}:\$\{OPENCLAW_UID\}$/m);
    expect(dockerfile).toMatch(/OPENCLAW_GATEWAY_BIND=lan/);
    expect(dockerfile).toMatch(/^EXPOSE 18789 9464$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["openclaw", "gateway"\]$/m);
  });

  it('copies only build inputs that exist and that .dockerignore lets through', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'src']));
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
      expect(sentToBuilder(source), source).toBe(true);
    }
    expect(sentToBuilder('src/cli.ts')).toBe(true);
    expect(sentToBuilder('src/config/schema.ts')).toBe(true);
    expect(sentToBuilder('src/config/schema.test.ts')).toBe(false);
    for (const kept of ['node_modules/ioredis/package.json', 'dist/cli.js', '.cache/helm/helm', 'test/helpers/redis.ts', '.git/HEAD']) {
      expect(sentToBuilder(kept), kept).toBe(false);
    }
    // The build script needs exactly what is copied.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.json && node scripts/chmod-cli.mjs');
  });
});
