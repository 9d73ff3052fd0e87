// The lifecycle-event publisher's Lambda entry: jobstack's own, bundled by the JobSystem construct.
import { createEventPublisherHandler } from './create-handler.js';

export const handler = createEventPublisherHandler();
