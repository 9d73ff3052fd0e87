import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { JobstackConfig } from '../client/stack-config.js';
import { ConfigurationError, InvalidArgumentError } from '../errors.js';
import { UnknownQueueError } from './errors.js';
import { eventSourceStates, setEventSourcesEnabled } from './event-sources.js';
import { PAUSE_SETTLE_MS, type PauseStore } from './pause-store.js';
import { stackUpdatedAt } from './stack-time.js';
import type { PauseOptions, PauseResult, QueueStatus, ResumeResult } from './types.js';

/** Longest pause reason, in characters. */
export const MAX_PAUSE_REASON_CHARS = 500;

export interface QueuePausesDeps {
  readonly config: JobstackConfig;
  readonly pauses: PauseStore;
  readonly cloudFormation: CloudFormationClient;
  /** Enables and disables the event source mappings; pause and resume fail with ConfigurationError without it. */
  readonly lambda?: LambdaClient;
  readonly clock?: () => number;
  /** How long `pause` waits for every worker to see the pause. @default PAUSE_SETTLE_MS (6 s) */
  readonly settleMs?: number;
}

/** The client's pause, resume and queueStatus (see `JobClient`). */
export function createQueuePauses(deps: QueuePausesDeps) {
  const { config } = deps;
  const clock = deps.clock ?? Date.now;

  function mappingsOf(queue: string): readonly string[] {
    const urls = config.queues[queue];
    if (!urls) throw new UnknownQueueError(queue, Object.keys(config.queues), config.stackName);
    const uuids = urls.eventSourceMappingIds;
    if (uuids === undefined || uuids.length === 0) {
      throw new ConfigurationError(
        `stack '${config.stackName}' lists no event source mapping for queue '${queue}': it was deployed by a jobstack ` +
          'without pause support; deploy it again to pause its queues',
      );
    }
    if (!deps.lambda) throw new ConfigurationError('pausing a queue needs a Lambda client (AwsClients.lambda)');
    return uuids;
  }

  return {
    async pause(queue: string, options: PauseOptions = {}): Promise<PauseResult> {
      const reason = checkReason(options.reason);
      if (options.keepOnDeploy !== undefined && typeof options.keepOnDeploy !== 'boolean') {
        throw new InvalidArgumentError(`keepOnDeploy must be true or false (given ${JSON.stringify(options.keepOnDeploy)})`);
      }
      const uuids = mappingsOf(queue);
      const stackTime = await stackUpdatedAt(deps.cloudFormation, config.stackName);
      // The item first: from here the worker's gate hands back every delivery, whatever the mapping does next.
      const { pause, existed } = await deps.pauses.put({
        queue,
        now: new Date(clock()).toISOString(),
        keepOnDeploy: options.keepOnDeploy ?? false,
        stackUpdatedAt: stackTime.toISOString(),
        ...(reason === undefined ? {} : { reason }),
      });
      await setEventSourcesEnabled(deps.lambda as LambdaClient, queue, uuids, false);
      // A worker may have read "not paused" just before the write; once its cache expires it sees the pause.
      await new Promise((resolve) => setTimeout(resolve, deps.settleMs ?? PAUSE_SETTLE_MS));
      return { queue, pause, newlyPaused: !existed };
    },

    async resume(queue: string): Promise<ResumeResult> {
      const uuids = mappingsOf(queue);
      // The mapping first: if enabling fails the item stays, and the queue stays paused rather than half-resumed.
      await setEventSourcesEnabled(deps.lambda as LambdaClient, queue, uuids, true);
      const wasPaused = await deps.pauses.delete(queue);
      return { queue, wasPaused };
    },

    async queueStatus(): Promise<QueueStatus[]> {
      return Promise.all(
        Object.entries(config.queues).map(async ([queue, urls]): Promise<QueueStatus> => {
          const [pause, eventSources] = await Promise.all([
            deps.pauses.get(queue, { consistent: true }),
            deps.lambda && urls.eventSourceMappingIds?.length
              ? eventSourceStates(deps.lambda, urls.eventSourceMappingIds)
              : Promise.resolve(undefined),
          ]);
          return {
            queue,
            status: pause ? 'paused' : 'active',
            ...(pause ? { pause } : {}),
            ...(eventSources ? { eventSources } : {}),
          };
        }),
      );
    },
  };
}

function checkReason(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > MAX_PAUSE_REASON_CHARS) {
    throw new InvalidArgumentError(
      `reason must be a non-empty string of at most ${MAX_PAUSE_REASON_CHARS} characters (given ${JSON.stringify(reason)?.slice(0, 100)})`,
    );
  }
  return reason;
}
