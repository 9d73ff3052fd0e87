import type { Logger } from '@aws-lambda-powertools/logger';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { eventSourceStates, setEventSourcesEnabled } from '../../shared/pause/event-sources.js';
import type { PauseStore } from '../../shared/pause/pause-store.js';
import type { EventSourceState, QueuePause } from '../../shared/pause/types.js';

export interface ReconcilePausesDeps {
  readonly pauses: PauseStore;
  readonly lambda: LambdaClient;
  /** The stack's last update (`stackUpdatedAt` in shared/pause/stack-time.ts); read only when some queue is paused. */
  readonly stackUpdatedAt: () => Promise<Date>;
  /** Each logical queue's event source mapping UUIDs. */
  readonly queues: ReadonlyMap<string, readonly string[]>;
  readonly logger: Logger;
  /** @default eventSourceStates */
  readonly states?: (lambda: LambdaClient, uuids: readonly string[]) => Promise<Record<string, EventSourceState>>;
  /** @default setEventSourcesEnabled */
  readonly setEnabled?: typeof setEventSourcesEnabled;
}

export interface ReconcilePausesResult {
  /** Queues resumed because the stack was deployed after their pause (which had no keepOnDeploy). */
  readonly resumed: readonly string[];
  /** Paused queues whose event source a deploy (or anyone) had enabled, disabled again. */
  readonly redisabled: readonly string[];
  /** Queues that could not be reconciled this run (logged; the next run tries again). */
  readonly failed: readonly string[];
  /** Queues still paused after this run: the sweep leaves their jobs alone. */
  readonly paused: readonly string[];
}

/** States in which a mapping delivers, or is about to. */
const DELIVERING_STATES = new Set(['Enabled', 'Enabling', 'Creating', 'Updating']);

/**
 * "A pause survives a redeploy only if the user asks", run by the sweeper on
 * its schedule. For each paused queue:
 * - the stack was updated after the pause and the pause has no
 *   `keepOnDeploy`: resume it (enable its event sources, then delete the pause
 *   item, conditional on it being the pause read, and log it);
 * - otherwise: the pause holds, so a mapping a deploy (or a person) enabled is
 *   disabled again. Until then the worker's gate hands deliveries back.
 *
 * Costs one consistent GetItem per queue per run, plus DescribeStacks and
 * GetEventSourceMapping only while some queue is paused.
 */
export async function reconcilePauses(deps: ReconcilePausesDeps): Promise<ReconcilePausesResult> {
  const states = deps.states ?? eventSourceStates;
  const setEnabled = deps.setEnabled ?? setEventSourcesEnabled;
  const resumed: string[] = [];
  const redisabled: string[] = [];
  const failed: string[] = [];
  const paused = (
    await Promise.all(
      [...deps.queues].map(async ([queue, uuids]) => {
        const pause = await deps.pauses.get(queue, { consistent: true });
        return pause ? { pause, uuids } : undefined;
      }),
    )
  ).filter((entry): entry is { pause: QueuePause; uuids: readonly string[] } => entry !== undefined);
  if (paused.length === 0) return { resumed, redisabled, failed, paused: [] };

  const stackTime = await deps.stackUpdatedAt();
  for (const { pause, uuids } of paused) {
    try {
      if (!pause.keepOnDeploy && stackTime.getTime() > Date.parse(pause.stackUpdatedAt)) {
        await setEnabled(deps.lambda, pause.queue, uuids, true);
        if (await deps.pauses.delete(pause.queue, { ifUnchanged: pause })) {
          resumed.push(pause.queue);
          deps.logger.warn('Resumed a queue paused before the last deploy (the pause had no keepOnDeploy)', {
            queue: pause.queue,
            pausedAt: pause.pausedAt,
            reason: pause.reason,
            stackUpdatedAtPause: pause.stackUpdatedAt,
            stackUpdatedAt: stackTime.toISOString(),
          });
        } else {
          // Paused again since the read: that pause stands, so its mapping goes back off.
          await setEnabled(deps.lambda, pause.queue, uuids, false);
        }
        continue;
      }
      const current = await states(deps.lambda, uuids);
      const delivering = uuids.filter((uuid) => DELIVERING_STATES.has(current[uuid] ?? ''));
      if (delivering.length > 0) {
        await setEnabled(deps.lambda, pause.queue, delivering, false);
        redisabled.push(pause.queue);
        deps.logger.warn('Disabled again the event source of a paused queue (a deploy or a person had enabled it)', {
          queue: pause.queue,
          keepOnDeploy: pause.keepOnDeploy,
          mappings: Object.fromEntries(delivering.map((uuid) => [uuid, current[uuid]])),
        });
      }
    } catch (error) {
      failed.push(pause.queue);
      deps.logger.error('Could not reconcile the pause of a queue; the next sweep tries again', { queue: pause.queue, error });
    }
  }
  return {
    resumed,
    redisabled,
    failed,
    paused: paused.map(({ pause }) => pause.queue).filter((queue) => !resumed.includes(queue)),
  };
}
