// The flow coordinator's Lambda entry: jobstack's own, bundled by the JobSystem construct.
import { createFlowCoordinatorHandler } from './create-handler.js';

export const handler = createFlowCoordinatorHandler();
