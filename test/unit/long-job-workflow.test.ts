import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { INVOCATION_BUDGET_ENV, readStepEnvironment } from '../../functions/long-job/environment.js';
import { ConfigurationError, defineRegistry, FunctionEnv } from '../../shared/index.js';
import { defineLongJob, defineLongJobContract, planLongJobs } from '../../shared/long-jobs/define-long-job.js';
import { InvalidLongJobError } from '../../shared/long-jobs/errors.js';
import {
  continuedExecutionName,
  executionNameOf,
  isExpressExecution,
  sameExecutionChain,
} from '../../shared/scheduling/names.js';

const step = async () => ({ done: true as const, result: null });
const schema = z.object({});

describe('maxDuration picks the workflow', () => {
  it('runs a job declared to take at most 5 minutes on Express, a longer or undeclared one on Standard', () => {
    expect(defineLongJob({ name: 'a', schema, stepTimeout: '10s', maxDuration: '2m', step })).toMatchObject({
      workflow: 'express',
      maxDurationMs: 120_000,
    });
    expect(defineLongJob({ name: 'b', schema, stepTimeout: '10s', maxDuration: '5m', step }).workflow).toBe('express');
    expect(defineLongJob({ name: 'c', schema, stepTimeout: '10s', maxDuration: '6m', step }).workflow).toBe('standard');
    const undeclared = defineLongJob({ name: 'd', schema, step });
    expect(undeclared.workflow).toBe('standard');
    expect(undeclared.maxDurationMs).toBeUndefined();
  });

  it('refuses a maxDuration that is not a duration, or shorter than a step, with InvalidLongJobError', () => {
    expect(() => defineLongJobContract({ name: 'x', schema, maxDuration: 'soon' as '1m' })).toThrow(InvalidLongJobError);
    expect(() => defineLongJobContract({ name: 'x', schema, stepTimeout: '2m', maxDuration: '1m' })).toThrow(
      /long job 'x': maxDuration must be at least stepTimeout/,
    );
    try {
      defineLongJobContract({ name: 'x', schema, stepTimeout: '2m', maxDuration: '1m' });
    } catch (error) {
      expect(error).toMatchObject({ name: 'InvalidLongJobError', option: 'maxDuration', jobType: 'x' });
    }
  });

  it('refuses an Express job whose step could outlast the execution (5 minutes less its 20 s margin)', () => {
    expect(() => defineLongJobContract({ name: 'y', schema, stepTimeout: '290s', maxDuration: '5m' })).toThrow(
      /stepTimeout must be at most 280s on an Express workflow/,
    );
    expect(defineLongJobContract({ name: 'y', schema, stepTimeout: '280s', maxDuration: '5m' }).workflow).toBe('express');
  });

  it('lists the Express job types in the plan, for the stack to deploy the Express state machine', () => {
    const registry = defineRegistry(
      defineLongJob({ name: 'quick', schema, stepTimeout: '10s', maxDuration: '1m', step }),
      defineLongJob({ name: 'slow', schema, step }),
    );
    expect(planLongJobs(registry)).toMatchObject({ jobTypes: ['quick', 'slow'], expressJobTypes: ['quick'] });
  });
});

describe('execution names of Express runs', () => {
  const standard = 'arn:aws:states:us-east-1:1:execution:jobs-long-jobs:J_r0_q0123abcd';
  const express = 'arn:aws:states:us-east-1:1:express:jobs-long-jobs-express:J_r0_q0123abcd:7b1f-run';

  it('reads the name before the run id of an Express ARN', () => {
    expect(executionNameOf(express)).toBe('J_r0_q0123abcd');
    expect(executionNameOf(standard)).toBe('J_r0_q0123abcd');
    expect(isExpressExecution(express)).toBe(true);
    expect(isExpressExecution(standard)).toBe(false);
    expect(continuedExecutionName(express, 1)).toBe('J_r0_q0123abcd_g1');
  });

  it('keeps the Standard continuation in the chain of the Express run it came from; a second Express run of the name is a stray', () => {
    const continuation = `arn:aws:states:us-east-1:1:execution:jobs-long-jobs:${continuedExecutionName(express, 1)}`;
    expect(sameExecutionChain(express, continuation)).toBe(true);
    expect(sameExecutionChain(express, express)).toBe(true);
    expect(sameExecutionChain(express, express.replace('7b1f-run', 'other-run'))).toBe(false);
  });
});

describe('the step function reads its invocation budget', () => {
  const base = { [FunctionEnv.jobsTable]: 'jobs' };
  it('defaults to 60 s, takes 0 (one step per invocation), and refuses anything but whole ms with ConfigurationError', () => {
    expect(readStepEnvironment(base).invocationBudgetMs).toBe(60_000);
    expect(readStepEnvironment({ ...base, [INVOCATION_BUDGET_ENV]: '0' }).invocationBudgetMs).toBe(0);
    expect(() => readStepEnvironment({ ...base, [INVOCATION_BUDGET_ENV]: '1.5' })).toThrow(ConfigurationError);
    expect(() => readStepEnvironment({ ...base, [INVOCATION_BUDGET_ENV]: '-1' })).toThrow(
      /JOBSTACK_LONG_JOB_INVOCATION_BUDGET_MS must be/,
    );
  });
});
