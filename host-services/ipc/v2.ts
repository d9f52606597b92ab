/**
 * NanoClaw v2 adapter. v2 containers send `{ kind: 'system', content:
 * JSON.stringify({ action, ... }) }` and the host dispatches on `action` to a
 * handler registered with `registerDeliveryAction(action, async (content,
 * session, inDb) => ...)`. The session (not the content) says who asked; the
 * reply goes back through the `reply` callback NanoClaw's integration gives,
 * e.g. a write into the session's inbound DB.
 */
import { TRAFFIC_REQUEST_TYPES, isValidRequestId, type TrafficResponse } from '../../mcp-tools/contract.js';
import type { TrafficLogger } from '../lifecycle.js';
import { handleTrafficRequest, type TrafficServiceLike } from './handler.js';

/** NanoClaw v2's delivery action handler shape. */
export type DeliveryActionHandler<S, D> = (content: Record<string, unknown>, session: S, inDb: D) => Promise<void>;

/** NanoClaw v2's `registerDeliveryAction` (extra arguments, e.g. guards, are passed through). */
export type RegisterDeliveryAction<S, D> = (
  action: string,
  handler: DeliveryActionHandler<S, D>,
  ...rest: never[]
) => unknown;

export interface TrafficActionsV2Deps<S, D> {
  service: TrafficServiceLike;
  /** Trusted identity of the session: its group folder and whether it is the main group. */
  identify(session: S): { sourceGroup: string; isMain: boolean } | Promise<{ sourceGroup: string; isMain: boolean }>;
  /** Sends the reply back to the session's container. */
  reply(response: TrafficResponse, session: S, inDb: D): void | Promise<void>;
  logger?: TrafficLogger;
}

const silent: TrafficLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Registers the three actions. Handlers never throw: a request without a
 * usable `requestId` is logged and dropped (nothing could match a reply to it).
 */
export function registerTrafficActionsV2<S, D>(
  registerDeliveryAction: RegisterDeliveryAction<S, D>,
  deps: TrafficActionsV2Deps<S, D>,
): string[] {
  const logger = deps.logger ?? silent;
  for (const action of TRAFFIC_REQUEST_TYPES) {
    const handler: DeliveryActionHandler<S, D> = async (content, session, inDb) => {
      try {
        const body: Record<string, unknown> =
          content && typeof content === 'object' && !Array.isArray(content) ? { ...content } : {};
        // v2 routes on `action`; the contract's discriminator is `type`.
        if (body['type'] === undefined) body['type'] = action;
        if (body['type'] !== action) {
          logger.warn({ action }, 'traffic guardian v2: type and action disagree; using the action');
          body['type'] = action;
        }
        if (!isValidRequestId(body['requestId'])) {
          logger.warn({ action }, 'traffic guardian v2: rejected request without a usable requestId');
          return;
        }
        const who = await deps.identify(session);
        const response = await handleTrafficRequest(body, {
          sourceGroup: who.sourceGroup,
          isMain: who.isMain === true,
          service: deps.service,
        });
        await deps.reply(response, session, inDb);
      } catch (err) {
        logger.error(
          { action, err: err instanceof Error ? err.message : String(err) },
          'traffic guardian v2: could not answer',
        );
      }
    };
    registerDeliveryAction(action, handler);
  }
  return [...TRAFFIC_REQUEST_TYPES];
}
