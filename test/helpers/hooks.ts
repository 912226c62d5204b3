// mocha root hooks: the shared platform is stopped once, after every test file ran.
import { installCompactLogging } from '../../workers/logging';
import { teardownPlatform } from '../../testing/platform';

// Expected failures (declined payments, retries) log at WARN; set LOG_LEVEL=INFO to see more.
installCompactLogging((process.env.LOG_LEVEL?.toUpperCase() as 'INFO') || 'ERROR');

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await teardownPlatform();
  },
};
