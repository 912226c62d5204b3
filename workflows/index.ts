// Workflow entry for the worker's bundle.
export { callWorkflow } from './call';
