/**
 * `jobstack/worker`: factories of the Lambda handlers the `JobSystem`
 * construct deploys. Each reads and checks its function's environment and
 * creates its SDK clients when called: call it once, at module scope.
 */

export {
  createDashboardApiHandler,
  type DashboardApiHandler,
  type DashboardApiHandlerOptions,
} from '../functions/dashboard-api/create-handler.js';
export { createDeadLetterHandler, type DeadLetterHandler } from '../functions/dead-letter/create-handler.js';
export { createEventIntakeHandler, type EventIntakeHandler } from '../functions/event-intake/create-handler.js';
export { createEventPublisherHandler, type EventPublisherHandler } from '../functions/event-publisher/create-handler.js';
export { createFlowCoordinatorHandler, type FlowCoordinatorHandler } from '../functions/flow-coordinator/create-handler.js';
export {
  createLongJobStepHandler,
  type LongJobStepHandler,
  type LongJobStepHandlerOptions,
} from '../functions/long-job/create-handler.js';
export type { FailureInput, LongJobState, StepInput, StepOutput, StepStatus } from '../functions/long-job/types.js';
export { createSweeperHandler, type SweeperHandler, type SweeperRunResult } from '../functions/sweeper/create-handler.js';
export type { ReconcilePausesResult } from '../functions/sweeper/reconcile-pauses.js';
export type { SweepResult } from '../functions/sweeper/sweep.js';
export { createWorkerHandler, type WorkerHandler, type WorkerHandlerOptions } from '../functions/worker/create-handler.js';
// The registries the factories take, shared with `jobstack`.
export type { HandlerRegistry, JobRegistry } from '../shared/job-definition.js';
