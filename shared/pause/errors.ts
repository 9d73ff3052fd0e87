import { JobstackError } from '../errors.js';

/** A queue name the stack does not have; the message lists the ones it has. */
export class UnknownQueueError extends JobstackError {
  constructor(
    readonly queue: string,
    readonly known: readonly string[],
    stackName: string,
  ) {
    super(`stack '${stackName}' has no queue '${queue}' (queues: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownQueueError';
  }
}

/** Lambda refused or kept failing to enable or disable a queue's event source mapping. */
export class EventSourceUpdateError extends JobstackError {
  constructor(
    readonly queue: string,
    readonly uuid: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`queue '${queue}': event source mapping ${uuid}: ${message}`, options);
    this.name = 'EventSourceUpdateError';
  }
}
