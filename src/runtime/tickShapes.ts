import { createHook } from 'node:async_hooks';

/** Held for the life of the process; see keepTickShapesAlive. */
const kept: object[] = [];
const noop = (): void => {};

/**
 * Keeps one of node's process.nextTick queue entries (a `TickObject`) of each shape alive for the life of
 * the process. Why: on Node 20 (V8 11.3), a gateway that starts and then idles lets V8's memory reducer run
 * a full GC while no tick entry is alive; their hidden classes die with them, and afterwards every
 * process.nextTick call — several per HTTP request, inside node's streams — builds its entry through
 * V8's runtime (map transitions and migrations) instead of the optimised literal, for as long as the
 * process lives: ≈ 5 % of the CPU samples, ≈ +5 µs per `GET /v1/models` (bench/README.md "Node 20 after an
 * idle start"). Holding one entry keeps those hidden classes, and so the fast path, alive. Node 24 does not
 * show the problem; the two objects cost nothing there.
 *
 * The entries are caught with an async hook that is enabled only around two nextTick calls of our own
 * (async hooks call `init` synchronously), so no other async resource ever sees it.
 */
export function keepTickShapesAlive(): void {
  if (kept.length > 0) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') kept.push(resource as object);
    },
  });
  hook.enable();
  try {
    process.nextTick(noop); // entry without arguments
    process.nextTick(noop, undefined); // entry with an arguments array
  } finally {
    hook.disable();
  }
}

/** For the unit test: how many entries are held. */
export function keptTickShapes(): number {
  return kept.length;
}
