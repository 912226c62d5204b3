// Workflow entry for the worker's bundle.
export { callWorkflow } from './call';
export { postCallWorkflow } from './post-call';
export { callbackWorkflow } from './callback';
export { recordingWorkflow } from './recording';
