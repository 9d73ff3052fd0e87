// The undeliverable-queue consumer's Lambda entry: jobstack's own, bundled by the JobSystem construct.
import { createDeadLetterHandler } from './create-handler.js';

export const handler = createDeadLetterHandler();
