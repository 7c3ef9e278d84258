// nginx as the ingress in front of several gateway replicas: a real nginx process with its own
// prefix dir, listening on a free loopback port, proxying HTTP and WebSocket to the replicas.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];

export function nginxBinary(): string | undefined {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

export interface Ingress {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly errorLog: () => string;
  stop(): Promise<void>;
}

/**
 * How long nginx keeps a backend out of rotation after one failed attempt (max_fails=1): a replica that was
 * restarted is back in rotation only this long after its last failure.
 */
export const UPSTREAM_FAIL_TIMEOUT_SECONDS = 2;

/** Starts nginx in front of the given backend ports (round robin, next upstream on error). */
export async function startIngress(backendPorts: number[]): Promise<Ingress> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx not found: apt-get install -y nginx (.ci/run installs it)');
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'openclaw-nginx-'));
  for (const dir of ['logs', 'tmp', 'tmp/body', 'tmp/proxy']) mkdirSync(join(prefix, dir), { recursive: true });
  const servers = backendPorts.map((backend) => `    server 127.0.0.1:${backend} max_fails=1 fail_timeout=${UPSTREAM_FAIL_TIMEOUT_SECONDS}s;`).join('\n');
  const config = `
worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp;
  scgi_temp_path ${prefix}/tmp;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gateway {
${servers}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateway;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
      proxy_read_timeout 3600s;
      proxy_buffering off;
    }
  }
}
`;
  const configFile = join(prefix, 'nginx.conf');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  process.on('exit', () => child.kill('SIGKILL'));
  const errorLog = () => {
    try {
      return readFileSync(join(prefix, 'logs/error.log'), 'utf8') + stderr;
    } catch {
      return stderr;
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${errorLog()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${errorLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/`,
    errorLog,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
