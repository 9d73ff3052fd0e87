import { ConfigurationError } from '../../shared/errors.js';
import { LifecycleDetailType, type LifecycleEventName } from '../../shared/events/lifecycle-events.js';

/** Environment variables of the lifecycle-event publisher, set by the `LifecycleEvents` construct. */
export const EventPublisherEnv = {
  /** ARN (or name) of the bus the events go to. */
  eventBus: 'JOBSTACK_EVENT_BUS',
  /** Comma-separated lifecycle events to publish (`succeeded,dead,cancelled[,started][,retrying]`). */
  events: 'JOBSTACK_LIFECYCLE_EVENTS',
  /** The stack name every event carries as `detail.stack`. */
  stackName: 'JOBSTACK_STACK_NAME',
} as const;

export interface EventPublisherEnvironment {
  readonly eventBus: string;
  readonly events: ReadonlySet<LifecycleEventName>;
  readonly stackName: string;
}

/** @throws ConfigurationError when a variable is missing or names an unknown event */
export function readEventPublisherEnvironment(env: NodeJS.ProcessEnv = process.env): EventPublisherEnvironment {
  const missing = Object.values(EventPublisherEnv).filter((name) => !env[name]);
  if (missing.length > 0) throw new ConfigurationError(`event publisher environment is missing ${missing.join(', ')}`);
  const given = (env[EventPublisherEnv.events] as string).split(',').map((name) => name.trim());
  const unknown = given.filter((name) => !Object.hasOwn(LifecycleDetailType, name));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `${EventPublisherEnv.events} names unknown lifecycle events ${unknown.join(', ')} (given ${env[EventPublisherEnv.events]})`,
    );
  }
  return {
    eventBus: env[EventPublisherEnv.eventBus] as string,
    events: new Set(given as LifecycleEventName[]),
    stackName: env[EventPublisherEnv.stackName] as string,
  };
}
