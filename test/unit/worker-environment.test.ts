import { describe, expect, it } from 'vitest';
import { readWorkerEnvironment } from '../../functions/worker/environment.js';
import { ConfigurationError, FunctionEnv } from '../../shared/index.js';

const base = {
  [FunctionEnv.jobsTable]: 'jobs',
  [FunctionEnv.idempotencyTable]: 'idem',
  [FunctionEnv.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/1/q',
  [FunctionEnv.deadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/1/dlq',
  [FunctionEnv.queueName]: 'default',
};

describe('readWorkerEnvironment: how successes are written', () => {
  it('batches them on AWS (no custom endpoint)', () => {
    expect(readWorkerEnvironment(base).successWrites).toBe('batched');
  });

  it("writes them one by one when AWS_ENDPOINT_URL points at an emulator (MiniStack's PartiQL writes reach no stream)", () => {
    expect(readWorkerEnvironment({ ...base, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }).successWrites).toBe('single');
    expect(readWorkerEnvironment({ ...base, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4566' }).successWrites).toBe('single');
  });

  it('batches them on the emulator jobstack launches, whose patches stream PartiQL updates', () => {
    const local = { ...base, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };
    expect(readWorkerEnvironment({ ...local, [FunctionEnv.emulatorPartiqlStreams]: '1' }).successWrites).toBe('batched');
    expect(readWorkerEnvironment({ ...local, [FunctionEnv.emulatorPartiqlStreams]: '0' }).successWrites).toBe('single');
  });

  it('follows JOBSTACK_SUCCESS_WRITES and JOBSTACK_SUCCESS_LINGER_MS, and refuses other values', () => {
    const env = { ...base, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', [FunctionEnv.successWrites]: 'batched' };
    expect(readWorkerEnvironment({ ...env, [FunctionEnv.successLingerMs]: '25' })).toMatchObject({
      successWrites: 'batched',
      successLingerMs: 25,
    });
    expect(() => readWorkerEnvironment({ ...base, [FunctionEnv.successWrites]: 'sometimes' })).toThrow(ConfigurationError);
    expect(() => readWorkerEnvironment({ ...base, [FunctionEnv.successLingerMs]: '-1' })).toThrow(ConfigurationError);
  });
});
