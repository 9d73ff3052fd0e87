import { type JobErrorContext, JobstackError } from '../../shared/errors.js';

/** Base class of the lifecycle-event publisher's errors. */
export class EventPublisherError extends JobstackError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'EventPublisherError';
  }
}

/** A job record in the stream lacks what a lifecycle event's detail needs (a field missing or of the wrong type). */
export class MalformedJobRecordError extends EventPublisherError {
  constructor(message: string, context: JobErrorContext = {}) {
    super(message, context);
    this.name = 'MalformedJobRecordError';
  }
}

/** One PutEvents entry is larger than a whole PutEvents request may be (256 KB). */
export class EventEntryTooLargeError extends EventPublisherError {
  constructor(
    readonly sizeBytes: number,
    context: JobErrorContext = {},
  ) {
    super(`a lifecycle event entry of ${sizeBytes} bytes exceeds the PutEvents limit of 262144 bytes`, context);
    this.name = 'EventEntryTooLargeError';
  }
}
