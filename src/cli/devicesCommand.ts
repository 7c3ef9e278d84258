import type { DeviceView, PairingRequestView } from '../pairing/types.js';
import { CLIENT_OPTIONS, parse, UsageError } from './args.js';
import { GatewayUnreachableError, resolveClient } from './gatewayClient.js';
import { EXIT, type CliIo } from './io.js';
import { GatewayRpcClient, GatewayRpcError } from './wsClient.js';

export const devicesHelp = `Usage:
  openclaw devices pending              pairing requests waiting for approval
  openclaw devices list                 paired devices
  openclaw devices approve <requestId>  pair the device (its token goes to the device, not here)
  openclaw devices reject <requestId>   refuse a pairing request
  openclaw devices rotate <deviceId>    issue a new token and print it; the old one stops working
  openclaw devices revoke <deviceId>    unpair the device and close its sessions
Options: --url URL (or OPENCLAW_GATEWAY_URL, default http://127.0.0.1:18789), --json for scripts.
Authenticates with OPENCLAW_GATEWAY_TOKEN when set, otherwise as a loopback client.`;

type Action = 'pending' | 'list' | 'approve' | 'reject' | 'rotate' | 'revoke';

const ARGUMENT_OF: Record<Action, string | null> = {
  pending: null,
  list: null,
  approve: 'requestId',
  reject: 'requestId',
  rotate: 'deviceId',
  revoke: 'deviceId',
};

export async function devicesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, CLIENT_OPTIONS);
  const [actionName, argument, ...rest] = positionals;
  if (values.help || actionName === undefined) {
    io.out(devicesHelp);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (!(actionName in ARGUMENT_OF)) {
    throw new UsageError(`unknown devices action "${actionName}" (${Object.keys(ARGUMENT_OF).join(', ')})`);
  }
  const action = actionName as Action;
  const argumentName = ARGUMENT_OF[action];
  if (argumentName === null && argument !== undefined) throw new UsageError(`devices ${action} takes no argument`);
  if (argumentName !== null && (argument === undefined || rest.length > 0)) {
    throw new UsageError(`devices ${action} takes exactly one <${argumentName}>`);
  }

  const client = resolveClient(values.url, values.config);
  let session: GatewayRpcClient | undefined;
  try {
    session = await GatewayRpcClient.connect(client);
    const result = await run(session, action, argument ?? '');
    if (values.json) io.out(JSON.stringify(result));
    else printHuman(io, action, argument ?? '', result);
    return EXIT.ok;
  } catch (error) {
    io.err(describeFailure(error, client.url, Boolean(client.token)));
    return EXIT.failure;
  } finally {
    session?.close();
  }
}

function run(session: GatewayRpcClient, action: Action, argument: string): Promise<unknown> {
  switch (action) {
    case 'pending':
      return session.call('node.pair.list', {});
    case 'list':
      return session.call('device.list', {});
    case 'approve':
      return session.call('node.pair.approve', { requestId: argument });
    case 'reject':
      return session.call('node.pair.reject', { requestId: argument });
    case 'rotate':
      return session.call('device.token.rotate', { deviceId: argument });
    case 'revoke':
      return session.call('device.token.revoke', { deviceId: argument });
  }
}

function printHuman(io: CliIo, action: Action, argument: string, result: unknown): void {
  switch (action) {
    case 'pending': {
      const { requests } = result as { requests: PairingRequestView[] };
      if (requests.length === 0) return io.out('No pending pairing requests.');
      const now = Date.now();
      return printTable(io, ['REQUEST ID', 'DEVICE ID', 'NAME', 'PLATFORM', 'CLIENT IP', 'EXPIRES IN'], requests.map((r) => [
        r.requestId,
        r.deviceId,
        r.displayName,
        r.platform || '-',
        r.clientIp,
        `${Math.max(0, Math.round((r.expiresAt - now) / 1000))} s`,
      ]));
    }
    case 'list': {
      const { devices } = result as { devices: DeviceView[] };
      if (devices.length === 0) return io.out('No paired devices.');
      return printTable(io, ['DEVICE ID', 'NAME', 'PLATFORM', 'PAIRED AT', 'LAST SEEN'], devices.map((d) => [
        d.deviceId,
        d.displayName,
        d.platform || '-',
        new Date(d.createdAt).toISOString(),
        d.lastSeenAt === null ? 'never' : new Date(d.lastSeenAt).toISOString(),
      ]));
    }
    case 'approve': {
      const { deviceId } = result as { deviceId: string };
      return io.out(`Approved pairing request ${argument}: device ${deviceId} is paired. Its token goes to the device only.`);
    }
    case 'reject':
      return io.out(`Rejected pairing request ${argument}.`);
    case 'rotate': {
      const { deviceId, token } = result as { deviceId: string; token: string };
      io.out(`New token for device ${deviceId} (the old one no longer works; shown once):`);
      return io.out(token);
    }
    case 'revoke':
      return io.out(`Revoked device ${argument}; its token no longer works and its sessions were closed.`);
  }
}

function printTable(io: CliIo, header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  io.out(line(header));
  for (const row of rows) io.out(line(row));
}

function describeFailure(error: unknown, url: string, usedToken: boolean): string {
  if (error instanceof GatewayUnreachableError) return error.message;
  if (error instanceof GatewayRpcError) {
    if (error.type === 'unauthorized') {
      const hint = usedToken ? 'check OPENCLAW_GATEWAY_TOKEN' : 'set OPENCLAW_GATEWAY_TOKEN, or run this on the gateway host';
      return `Gateway at ${url} refused the credentials: ${error.message} (${hint})`;
    }
    if (error.type === 'forbidden') return `Gateway at ${url} refused: ${error.message} (device administration needs the control role)`;
    return `Gateway at ${url} answered ${error.type}: ${error.message}`;
  }
  return (error as Error).message;
}
