// The demo's worker as a Lambda entry module, built the way the construct's generated entry builds it: the
// benchmarks load it to measure the real worker (bench/lib/overhead-child.ts).
import { createWorkerHandler } from 'jobstack/worker';
import { registry } from './handlers.js';

export const handler = createWorkerHandler({ registry });
