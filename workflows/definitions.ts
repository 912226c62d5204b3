// The call workflow's messages, payload types and search attributes are contracts
// (contracts/call.ts), imported by every process; re-exported here for the workflow's files.
export * from '../contracts/call';
