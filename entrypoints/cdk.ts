// The `jobstack/cdk` entry: the JobSystem construct and its props. Re-exports only.
export { JobSystem, type JobSystemProps } from '../infra/job-system.js';
