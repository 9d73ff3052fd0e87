export {
  ENQUEUE_EVENT_DETAIL_TYPE,
  type EnqueueEventDetail,
  EnqueueEventDetailSchema,
  enqueueEventJsonSchema,
} from './enqueue-event.js';
export { InvalidEnqueueEventError, InvalidTriggerError, TriggerMappingError } from './errors.js';
export { IntakeEventSchema, type IntakeMessage, IntakeMessageSchema, intakeInputTemplate } from './intake-message.js';
export {
  eventJobId,
  eventPatternOf,
  type JobTrigger,
  type JobTriggerEvent,
  type JobTriggerInput,
  mapTriggerEvent,
  resolveTrigger,
} from './trigger.js';
