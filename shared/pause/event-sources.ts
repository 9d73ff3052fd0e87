import { GetEventSourceMappingCommand, type LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { EventSourceUpdateError } from './errors.js';
import type { EventSourceState } from './types.js';

/** Tries of an update Lambda answers with ResourceInUseException (the mapping is still changing state). */
const MAX_UPDATE_TRIES = 6;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 4_000;

export interface EventSourceOptions {
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Enables or disables each of a queue's event source mappings
 * (`UpdateEventSourceMapping`, `Enabled`). A mapping still changing state
 * answers ResourceInUseException; that is retried with backoff (about 15
 * seconds in all) before giving up.
 * @returns each mapping's state as Lambda answered (`Disabling`, `Enabling`, …)
 * @throws EventSourceUpdateError naming the queue and mapping
 */
export async function setEventSourcesEnabled(
  lambda: LambdaClient,
  queue: string,
  uuids: readonly string[],
  enabled: boolean,
  options: EventSourceOptions = {},
): Promise<Record<string, EventSourceState>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const states: Record<string, EventSourceState> = {};
  for (const uuid of uuids) {
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
        states[uuid] = output.State ?? (enabled ? 'Enabling' : 'Disabling');
        break;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ResourceInUseException' && attempt < MAX_UPDATE_TRIES) {
          await sleep(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1)));
          continue;
        }
        throw new EventSourceUpdateError(
          queue,
          uuid,
          `could not ${enabled ? 'enable' : 'disable'} it: ${name ?? 'Error'}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  return states;
}

/** Each mapping's state (`GetEventSourceMapping`); a mapping that cannot be read shows as `Unknown (<error>)`. */
export async function eventSourceStates(
  lambda: LambdaClient,
  uuids: readonly string[],
): Promise<Record<string, EventSourceState>> {
  const entries = await Promise.all(
    uuids.map(async (uuid): Promise<[string, EventSourceState]> => {
      try {
        const output = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
        return [uuid, output.State ?? 'Unknown'];
      } catch (error) {
        return [uuid, `Unknown (${(error as { name?: string }).name ?? 'Error'})`];
      }
    }),
  );
  return Object.fromEntries(entries);
}
