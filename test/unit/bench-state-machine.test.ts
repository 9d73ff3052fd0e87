import { describe, expect, it } from 'vitest';
import { type AslDefinition, walkExecution } from '../../bench/lib/state-machine.js';

// The shape of the long-job state machine: Step → Route → (Step | Pause → Step | Succeeded | JobDead).
const definition: AslDefinition = {
  StartAt: 'Step',
  States: {
    Step: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:step',
      Parameters: { 'jobId.$': '$.jobId', 'done.$': '$.done', 'executionArn.$': '$$.Execution.Id' },
      Next: 'Route',
    },
    Route: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.status', StringEquals: 'continue', Next: 'Step' },
        {
          Or: [
            { Variable: '$.status', StringEquals: 'wait' },
            { Variable: '$.status', StringEquals: 'retry' },
          ],
          Next: 'Pause',
        },
        { Variable: '$.status', StringEquals: 'succeeded', Next: 'Succeeded' },
      ],
      Default: 'JobDead',
    },
    Pause: { Type: 'Wait', Next: 'Step' },
    Succeeded: { Type: 'Succeed' },
    JobDead: { Type: 'Fail' },
  },
};

describe('walkExecution', () => {
  it('counts one transition per state entered: 2 per step plus the final state', async () => {
    const payloads: unknown[] = [];
    const result = await walkExecution(
      definition,
      { jobId: 'j', done: 0 },
      async (_resource, payload) => {
        payloads.push(payload);
        const done = (payload as { done: number }).done + 1;
        return { jobId: 'j', done, status: done === 3 ? 'succeeded' : done === 2 ? 'retry' : 'continue' };
      },
      { executionArn: 'arn:exec' },
    );
    // Step, Route, Step, Route, Pause, Step, Route, Succeeded
    expect(result).toMatchObject({ transitions: 8, endState: 'Succeeded', endType: 'Succeed' });
    expect(Object.values(result.tasks)).toEqual([3]);
    expect(payloads[0]).toEqual({ jobId: 'j', done: 0, executionArn: 'arn:exec' });
  });

  it('takes the Default branch when no choice matches', async () => {
    const result = await walkExecution(definition, { jobId: 'j', done: 0 }, async () => ({ status: 'dead' }), {
      executionArn: 'arn:exec',
    });
    expect(result).toMatchObject({ transitions: 3, endState: 'JobDead', endType: 'Fail' });
  });

  it('fails on a loop that never ends', async () => {
    await expect(
      walkExecution(definition, { jobId: 'j', done: 0 }, async () => ({ status: 'continue', done: 0 }), {
        executionArn: 'arn:exec',
        maxTransitions: 50,
      }),
    ).rejects.toThrow(/did not end within 50 transitions/);
  });
});
