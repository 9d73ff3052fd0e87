import type { RequestCharge } from './request-meter.js';

/**
 * On-demand list prices, us-east-1 (USD). Requests only; Lambda compute is
 * priced separately per GB-second (arm64, which the worker runs on).
 */
export const PRICES = {
  sqsPerMillionRequests: 0.4,
  /** FIFO queues (ordering per key), per 64 KB chunk. */
  sqsFifoPerMillionRequests: 0.5,
  lambdaPerMillionInvocations: 0.2,
  dynamoPerMillionWriteUnits: 0.625,
  dynamoPerMillionReadUnits: 0.125,
  stepFunctionsPerMillionTransitions: 25,
  schedulerPerMillionInvocations: 1,
  /** Lambda arm64 compute, per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** CloudWatch Logs ingestion, per GB. */
  logsPerGbIngested: 0.5,
} as const;

/** Billable units per job by service, and what a million jobs cost in requests. */
export interface PerJobCost {
  readonly sqsRequests: number;
  readonly lambdaInvocations: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoIndexWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly stepFunctionsTransitions: number;
  readonly schedulerInvocations: number;
  /** USD per million jobs, requests only (no compute, no logs). */
  readonly dollarsPerMillion: number;
}

/** Sums `charges` (made by `jobs` jobs) into per-job units and a price per million jobs. */
export function perJobCost(charges: readonly RequestCharge[], jobs: number): PerJobCost {
  if (!(jobs > 0)) throw new RangeError(`jobs must be positive (given ${jobs})`);
  const sum = (pick: (c: RequestCharge) => number) => charges.reduce((total, c) => total + pick(c), 0) / jobs;
  const of = (service: string) => (c: RequestCharge) => (c.service === service ? c.billedRequests : 0);
  const sqsRequests = sum(of('SQS'));
  const lambdaInvocations = sum(of('Lambda'));
  const dynamoWriteUnits = sum((c) => c.writeUnits);
  const dynamoIndexWriteUnits = sum((c) => c.indexWriteUnits);
  const dynamoReadUnits = sum((c) => c.readUnits);
  const stepFunctionsTransitions = sum(of('StepFunctions'));
  const schedulerInvocations = sum(of('Scheduler'));
  const dollarsPerMillion =
    sqsRequests * PRICES.sqsPerMillionRequests +
    lambdaInvocations * PRICES.lambdaPerMillionInvocations +
    (dynamoWriteUnits + dynamoIndexWriteUnits) * PRICES.dynamoPerMillionWriteUnits +
    dynamoReadUnits * PRICES.dynamoPerMillionReadUnits +
    stepFunctionsTransitions * PRICES.stepFunctionsPerMillionTransitions +
    schedulerInvocations * PRICES.schedulerPerMillionInvocations;
  return {
    sqsRequests,
    lambdaInvocations,
    dynamoWriteUnits,
    dynamoIndexWriteUnits,
    dynamoReadUnits,
    stepFunctionsTransitions,
    schedulerInvocations,
    dollarsPerMillion,
  };
}

/** Calls per job by `service.operation`, sorted by name. */
export function callsPerJob(charges: readonly RequestCharge[], jobs: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const c of charges) {
    const key = `${c.service}.${c.operation}${c.modelled ? '*' : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + c.calls);
  }
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => [key, n / jobs]);
}
