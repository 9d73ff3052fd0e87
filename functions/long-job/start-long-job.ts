import type { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AnyJobDefinition, JobEnvelope, JobStore } from '../../shared/index.js';
import type { LongJobContract } from '../../shared/long-jobs/types.js';
import { executionName } from '../../shared/scheduling/names.js';
import { expressStateMachineArn, type LongJobState } from './types.js';

export interface LongJobStarterDeps {
  readonly sfn: SFNClient;
  /** The Standard state machine; job types declared to fit 5 minutes start on the Express one beside it. */
  readonly stateMachineArn: string;
  readonly store: JobStore;
}

/** Hands a long job that arrived on a queue to Step Functions. */
export type LongJobStarter = (
  envelope: JobEnvelope,
  definition: AnyJobDefinition,
  context: { readonly queueName: string; readonly logger: Logger },
) => Promise<void>;

/**
 * Long jobs reach the worker like any job (an immediate enqueue, an SQS delay,
 * a one-time or recurring schedule all end as a queue message); the worker
 * does not run them but starts their execution, named from the job id and its
 * attempt series (`executionName`), so a repeated delivery finds the execution
 * already there and starts nothing.
 *
 * The record is created when missing (the fire of a recurring schedule), and
 * only a job still waiting to start (`queued`, `scheduled`) is started: a
 * cancelled one is left alone, a running one is already under way.
 */
export function createLongJobStarter(deps: LongJobStarterDeps): LongJobStarter {
  return async function startLongJob(envelope, definition, { queueName, logger }) {
    let record = await deps.store.get(envelope.id);
    if (!record) {
      await deps.store.create({
        id: envelope.id,
        type: envelope.type,
        queue: queueName,
        maxAttempts: definition.retry.maxAttempts,
        payload: envelope.payload,
        correlationId: envelope.correlationId ?? envelope.id,
        state: 'queued',
      });
      record = await deps.store.get(envelope.id);
    }
    if (!record || (record.state !== 'queued' && record.state !== 'scheduled')) {
      logger.info('Long job is not waiting to start; nothing to do', { state: record?.state });
      return;
    }
    const state: LongJobState = { jobId: envelope.id, startAttempt: record.attempts, generation: 0, executionSteps: 0 };
    // Named from the record as it waits: a repeated delivery sees the same record and the same name, so Step
    // Functions refuses the second start; a `retry` of a dead job rewrote updatedAt, so its series gets a new name.
    // On Express a second start under the same name is not refused but starts a second run: the step runner
    // tells it apart by its run id (sameExecutionChain) and beginAttempt lets only one run begin the attempt.
    const name = executionName(envelope.id, { attempts: record.attempts, queuedAt: record.updatedAt });
    const express = (definition as Partial<LongJobContract>).workflow === 'express';
    const stateMachineArn = express ? expressStateMachineArn(deps.stateMachineArn) : deps.stateMachineArn;
    try {
      const output = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(state) }));
      logger.info('Long job handed to Step Functions', { executionArn: output.executionArn });
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      logger.info('Long job execution already exists (a repeated delivery); not starting another', { name });
    }
  };
}
