import type { ClusterBus } from '../cluster/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { Notifier } from '../ws/Notifier.js';
import type { PairingResolvedEvent, ResolvedAnswer } from './types.js';

/** Requests made on this replica whose requester is still waiting for `node.pair.resolved`. */
interface WaitingRequester {
  readonly requestId: string;
  readonly sessionId: string;
  readonly claimSecret: string;
  readonly forgetAt: number;
}

export const MAX_WAITING_REQUESTERS = 1_000;
/** Bus messages for a request can trail its expiry by a little. */
const FORGET_GRACE_MS = 30_000;

export interface RequesterDeliveriesOptions {
  readonly bus: ClusterBus;
  readonly notifier: Notifier;
  readonly logger: Logger;
  /** Reads the request with the claim secret, exactly as `node.pair.claim` would but without consuming the claim. */
  readonly answerFor: (requestId: string, claimSecret: string) => Promise<ResolvedAnswer | null>;
  readonly now?: () => number;
}

/**
 * Delivers `node.pair.resolved` (with the token) to the session that asked, on the replica that holds
 * that session. Only that replica knows the claim secret, so the token is unsealed here and never
 * crosses the bus in the `pairing.resolved` event. The claim itself stays available: a requester
 * whose connection dropped as the answer went out can still `node.pair.claim` it once.
 */
export class RequesterDeliveries {
  private readonly waiting = new Map<string, WaitingRequester>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly options: RequesterDeliveriesOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const { bus } = this.options;
    this.unsubscribe.push(
      bus.subscribe('pairing.resolved', (envelope) => {
        const event = envelope.payload as PairingResolvedEvent;
        if (typeof event?.requestId === 'string') void this.deliver(event.requestId);
      }),
      // Resolutions published while the bus was down were missed: ask the store for each waiting request.
      bus.onResync(() => {
        for (const requestId of [...this.waiting.keys()]) void this.deliver(requestId, { onlyIfResolved: true });
      }),
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.waiting.clear();
  }

  get size(): number {
    return this.waiting.size;
  }

  remember(requestId: string, sessionId: string, claimSecret: string, expiresAt: number): void {
    this.sweep();
    while (this.waiting.size >= MAX_WAITING_REQUESTERS) {
      const oldest = this.waiting.keys().next().value;
      if (oldest === undefined) break;
      this.waiting.delete(oldest);
    }
    this.waiting.set(requestId, { requestId, sessionId, claimSecret, forgetAt: expiresAt + FORGET_GRACE_MS });
  }

  /** The session closed: nobody is left to deliver to (the claim secret holder can still claim). */
  forgetSession(sessionId: string): void {
    for (const [requestId, entry] of this.waiting) if (entry.sessionId === sessionId) this.waiting.delete(requestId);
  }

  private async deliver(requestId: string, options: { onlyIfResolved?: boolean } = {}): Promise<void> {
    const entry = this.waiting.get(requestId);
    if (!entry) return;
    const { logger, notifier, answerFor } = this.options;
    try {
      const answer = await answerFor(requestId, entry.claimSecret);
      if (answer === null) {
        this.waiting.delete(requestId);
        return;
      }
      if (answer.status === 'pending') {
        if (!options.onlyIfResolved) logger.warn({ requestId }, 'pairing resolution not visible yet');
        return;
      }
      // Delete before notifying so two bus deliveries of the same event cannot notify twice.
      if (this.waiting.get(requestId) !== entry) return;
      this.waiting.delete(requestId);
      await notifier.notify({ sessionId: entry.sessionId }, 'node.pair.resolved', answer);
    } catch (error) {
      logger.warn({ requestId, err: error }, 'pairing resolution delivery failed');
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [requestId, entry] of this.waiting) if (entry.forgetAt <= now) this.waiting.delete(requestId);
  }
}
