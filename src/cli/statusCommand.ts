import { CLIENT_OPTIONS, parse } from './args.js';
import { GatewayUnreachableError, errorMessageOf, getJson, resolveClient } from './gatewayClient.js';
import { EXIT, type CliIo } from './io.js';

export const statusHelp = `Usage: openclaw status [--url URL] [--json]
Asks the gateway (OPENCLAW_GATEWAY_URL, default http://127.0.0.1:18789) for its status.
Exit 0 when it answers, 1 when it does not.`;

interface StatusBody {
  version: string;
  replicaId: string;
  bind: string;
  port: number;
  authMethods: string[];
  store: string;
  ready: boolean;
  uptimeSeconds: number;
}

export async function statusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, CLIENT_OPTIONS);
  if (values.help) {
    io.out(statusHelp);
    return EXIT.ok;
  }
  const client = resolveClient(values.url, values.config);
  let result;
  try {
    result = await getJson(client, '/v1/status');
  } catch (error) {
    if (error instanceof GatewayUnreachableError) {
      io.err(error.message);
      return EXIT.failure;
    }
    throw error;
  }
  if (result.status !== 200) {
    const hint = result.status === 401 ? ' (set OPENCLAW_GATEWAY_TOKEN)' : '';
    io.err(`Gateway at ${client.url} answered ${result.status}: ${errorMessageOf(result.body)}${hint}`);
    return EXIT.failure;
  }
  const status = result.body as StatusBody;
  if (values.json) {
    io.out(JSON.stringify(status));
    return EXIT.ok;
  }
  io.out(`Gateway at ${client.url}: ${status.ready ? 'ready' : 'running, not ready'}`);
  io.out(`  version       ${status.version}`);
  io.out(`  replica id    ${status.replicaId}`);
  io.out(`  bind          ${status.bind}`);
  io.out(`  port          ${status.port}`);
  io.out(`  auth methods  ${status.authMethods.join(', ')}`);
  io.out(`  store         ${status.store}`);
  io.out(`  uptime        ${status.uptimeSeconds} s`);
  return EXIT.ok;
}
