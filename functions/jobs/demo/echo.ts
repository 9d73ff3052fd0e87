import { implementJob } from 'jobstack';
import { echo } from '../contracts.js';

export const echoJob = implementJob(echo, async ({ message }) => ({ message }));
