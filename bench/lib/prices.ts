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
  /** Standard workflows: per state transition. */
  stepFunctionsPerMillionTransitions: 25,
  /** Express workflows: per execution started (request), plus duration below. */
  stepFunctionsExpressPerMillionRequests: 1,
  /** Express workflows, first tier (the first 1,000 hours): per GB-second, memory billed in 64 MB steps. */
  stepFunctionsExpressPerGbSecond: 0.00001667,
  schedulerPerMillionInvocations: 1,
  /** S3 Standard PUT, COPY, POST, LIST requests: $0.005 per 1,000. */
  s3PutPerMillionRequests: 5,
  /** S3 Standard GET, SELECT and all other requests: $0.0004 per 1,000. */
  s3GetPerMillionRequests: 0.4,
  /** Lambda arm64 compute, per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** CloudWatch Logs ingestion, per GB. */
  logsPerGbIngested: 0.5,
} as const;

/** Express duration is billed in 100 ms steps (rounded up), memory in 64 MB steps; 64 MB is the least. */
const EXPRESS_BILLING_MS = 100;
const EXPRESS_MEMORY_STEP_MB = 64;

/**
 * GB-seconds AWS bills for an Express execution of `durationMs` using
 * `memoryMb` (Step Functions pricing: duration rounded up to the next 100 ms,
 * memory in 64 MB chunks; a small loop like the long-job one uses the least).
 */
export function expressBilledGbSeconds(durationMs: number, memoryMb = EXPRESS_MEMORY_STEP_MB): number {
  if (!(durationMs >= 0)) throw new RangeError(`durationMs must be 0 or more (given ${durationMs})`);
  const billedMs = Math.max(1, Math.ceil(durationMs / EXPRESS_BILLING_MS)) * EXPRESS_BILLING_MS;
  const billedMb = Math.max(1, Math.ceil(memoryMb / EXPRESS_MEMORY_STEP_MB)) * EXPRESS_MEMORY_STEP_MB;
  return (billedMs / 1_000) * (billedMb / 1_024);
}

/**
 * Services of the modelled Express charges: one request per execution, and its
 * billed duration as `billedRequests` in GB-seconds (`expressBilledGbSeconds`).
 */
export const EXPRESS_REQUESTS = 'StepFunctionsExpress';
export const EXPRESS_GB_SECONDS = 'StepFunctionsExpressGbSeconds';

/** Billable units per job by service, and what a million jobs cost in requests. */
export interface PerJobCost {
  readonly sqsRequests: number;
  readonly lambdaInvocations: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoIndexWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly stepFunctionsTransitions: number;
  /** Express executions started. */
  readonly stepFunctionsExpressRequests: number;
  /** Express duration billed, in GB-seconds. */
  readonly stepFunctionsExpressGbSeconds: number;
  readonly schedulerInvocations: number;
  /** S3 requests billed at the PUT (PUT, COPY, POST, LIST) and the GET (everything else) rate. */
  readonly s3PutRequests: number;
  readonly s3GetRequests: number;
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
  const stepFunctionsExpressRequests = sum(of(EXPRESS_REQUESTS));
  const stepFunctionsExpressGbSeconds = sum(of(EXPRESS_GB_SECONDS));
  const schedulerInvocations = sum(of('Scheduler'));
  const s3PutRequests = sum((c) => (c.service === 'S3' && isS3PutClass(c.operation) ? c.billedRequests : 0));
  const s3GetRequests = sum((c) => (c.service === 'S3' && !isS3PutClass(c.operation) ? c.billedRequests : 0));
  const dollarsPerMillion =
    sqsRequests * PRICES.sqsPerMillionRequests +
    lambdaInvocations * PRICES.lambdaPerMillionInvocations +
    (dynamoWriteUnits + dynamoIndexWriteUnits) * PRICES.dynamoPerMillionWriteUnits +
    dynamoReadUnits * PRICES.dynamoPerMillionReadUnits +
    stepFunctionsTransitions * PRICES.stepFunctionsPerMillionTransitions +
    stepFunctionsExpressRequests * PRICES.stepFunctionsExpressPerMillionRequests +
    stepFunctionsExpressGbSeconds * PRICES.stepFunctionsExpressPerGbSecond * 1e6 +
    schedulerInvocations * PRICES.schedulerPerMillionInvocations +
    s3PutRequests * PRICES.s3PutPerMillionRequests +
    s3GetRequests * PRICES.s3GetPerMillionRequests;
  return {
    sqsRequests,
    lambdaInvocations,
    dynamoWriteUnits,
    dynamoIndexWriteUnits,
    dynamoReadUnits,
    stepFunctionsTransitions,
    stepFunctionsExpressRequests,
    stepFunctionsExpressGbSeconds,
    schedulerInvocations,
    s3PutRequests,
    s3GetRequests,
    dollarsPerMillion,
  };
}

/** S3 operations billed at the PUT rate (https://aws.amazon.com/s3/pricing/, "Requests & data retrievals"). */
export function isS3PutClass(operation: string): boolean {
  return /^(Put|Copy|Post|List|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)/.test(operation);
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
