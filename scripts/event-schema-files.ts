import { ENQUEUE_EVENT_DETAIL_TYPE, enqueueEventJsonSchema } from '../shared/triggers/enqueue-event.js';

/** The JSON Schema files under docs/events/, by path from the repository root, and how each is rendered. */
export const EVENT_SCHEMA_FILES: Readonly<Record<string, () => string>> = {
  [`docs/events/${ENQUEUE_EVENT_DETAIL_TYPE}.schema.json`]: () => `${JSON.stringify(enqueueEventJsonSchema(), null, 2)}\n`,
};
