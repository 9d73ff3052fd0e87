import { type JobRegistry, planQueues } from '../../shared/index.js';
import { planSchedules } from '../../shared/scheduling/declared.js';

/** What the deployed stack was built from, as far as the code can change it without a deploy. */
export interface DeployedShape {
  /** Job types each deployed worker carries, by logical queue (the worker's `JOBSTACK_JOB_TYPES`). */
  readonly jobTypesByQueue: ReadonlyMap<string, readonly string[]>;
  /** Names of the recurring schedules the registry declared when `jobstack dev` started. */
  readonly scheduleNames: readonly string[];
}

/**
 * What the saved registry declares that the deployed stack cannot run without a deploy: a queue
 * it does not have, a job type its worker does not carry, a changed set of declared schedules.
 * Handler code changes need nothing; these each need `cdk deploy` (`jobstack local up` locally).
 */
export function infrastructureChanges(registry: JobRegistry, deployed: DeployedShape): string[] {
  const changes: string[] = [];
  for (const plan of planQueues(registry)) {
    const deployedTypes = deployed.jobTypesByQueue.get(plan.name);
    if (deployedTypes === undefined) {
      changes.push(`queue '${plan.name}' (job types ${plan.jobTypes.join(', ')}) is not deployed`);
      continue;
    }
    const missing = plan.jobTypes.filter((type) => !deployedTypes.includes(type));
    if (missing.length > 0) changes.push(`job types ${missing.join(', ')} are not on the deployed '${plan.name}' worker`);
  }
  const schedules = planSchedules(registry)
    .map((schedule) => schedule.name)
    .sort();
  const before = [...deployed.scheduleNames].sort();
  if (schedules.join('\n') !== before.join('\n')) {
    changes.push(`declared schedules changed (${before.join(', ') || 'none'} → ${schedules.join(', ') || 'none'})`);
  }
  return changes;
}
