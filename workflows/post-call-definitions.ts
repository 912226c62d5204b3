// The post-call workflow's contract is in contracts/post-call.ts, imported by every process;
// re-exported here for the workflow's files.
export * from '../contracts/post-call';
