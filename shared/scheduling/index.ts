export { DEFAULT_SCHEDULER_THRESHOLD_MS, type DelayPlan, type DelayRequest, planDelay } from './delay.js';
export { InvalidScheduleError, ScheduleError } from './errors.js';
export { atExpression, type Recurrence, type RecurrenceInput, toRecurrence } from './expressions.js';
export {
  JobScheduler,
  recurringEnvelopeTemplate,
  SCHEDULE_RETRY_POLICY,
  type ScheduleInfo,
  ScheduleOwner,
  type SchedulingConfig,
} from './job-scheduler.js';
export {
  assertRecurringScheduleName,
  executionName,
  ONE_TIME_SCHEDULE_PREFIX,
  oneTimeScheduleName,
  RECURRING_JOB_ID_PREFIX,
  recurringJobId,
  SCHEDULED_TIME_PLACEHOLDER,
  safeName,
} from './names.js';
