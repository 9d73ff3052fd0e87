// The sweeper's Lambda entry: jobstack's own, bundled by the JobSystem construct.
import { createSweeperHandler } from './create-handler.js';

export const handler = createSweeperHandler();
