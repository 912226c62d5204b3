// mocha root hooks: the shared platform (and Toxiproxy, if a test started it) is stopped once,
// after every test file ran.
import { installCompactLogging } from '../../workers/logging';
import { stopFaultProxy } from '../../testing/faults';
import { teardownPlatform } from '../../testing/platform';

// Expected failures (declined payments, retries) log at WARN; set LOG_LEVEL=INFO to see more.
installCompactLogging((process.env.LOG_LEVEL?.toUpperCase() as 'INFO') || 'ERROR');

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await Promise.all([teardownPlatform(), stopFaultProxy()]);
  },
};
