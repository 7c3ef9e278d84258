import { RpcError } from '../rpc/RpcError.js';
import type { RpcMethod, RpcSessionView } from '../rpc/RpcMethod.js';
import { objectParams, optionalBoolean, optionalInteger } from '../rpc/params.js';

/** A tail answer stays well under the client-side frame limits even when lines are long. */
export const MAX_TAIL_RESULT_BYTES = 512 * 1024;

const following = new WeakSet<RpcSessionView>();

/**
 * `logs.tail {lines?, follow?}` (control): the newest log lines of this replica, each a JSON string
 * exactly as logged; with follow, every new line arrives as a `logs.line {line}` notification until
 * the session closes.
 */
export const logsTailMethod: RpcMethod = {
  name: 'logs.tail',
  roles: ['control'],
  handle: async (rawParams, call) => {
    const { logRing } = call.services;
    const params = objectParams(rawParams);
    const count = optionalInteger(params, 'lines', 0, logRing.capacity) ?? logRing.capacity;
    const follow = optionalBoolean(params, 'follow') ?? false;
    const lines = newestWithin(logRing.tail(count), MAX_TAIL_RESULT_BYTES);
    if (follow && following.has(call.session)) throw RpcError.of('conflict', 'This session already follows the logs.');
    if (follow) {
      const stop = logRing.follow((line) => {
        call.notify('logs.line', { line });
      });
      if (!stop) throw RpcError.of('unavailable', 'Too many sessions are following the logs; try again later.');
      following.add(call.session);
      call.onClose(stop);
    }
    return { lines, follow };
  },
};

function newestWithin(lines: string[], maxBytes: number): string[] {
  let total = 0;
  let first = lines.length;
  while (first > 0) {
    const size = lines[first - 1]!.length + 3;
    if (total + size > maxBytes) break;
    total += size;
    first -= 1;
  }
  return first === 0 ? lines : lines.slice(first);
}
