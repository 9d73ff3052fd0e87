import { implementJob } from 'jobstack';
import { greet } from '../contracts.js';

export const greetJob = implementJob(greet, async ({ name }) => ({ greeting: `Hello, ${name}!` }));
