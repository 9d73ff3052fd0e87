export { JobSystem, type JobSystemProps } from '../infra/job-system.js';
