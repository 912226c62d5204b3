// mocha root hooks: the shared platform (and Toxiproxy, if a test started it) is stopped once,
// after every test file ran; after each file, workflows it left running are ended.
import { installCompactLogging } from '../../workers/logging';
import { stopFaultProxy } from '../../testing/faults';
import { endLeftoverWorkflows, teardownPlatform } from '../../testing/platform';

// Expected failures (declined payments, retries) log at WARN; set LOG_LEVEL=INFO to see more.
installCompactLogging((process.env.LOG_LEVEL?.toUpperCase() as 'INFO') || 'ERROR');

export const mochaHooks = {
  // Added to each file's last top-level suite, after the file's own `after` hooks.
  beforeAll(this: Mocha.Context) {
    const lastOfFile = new Map<string | undefined, Mocha.Suite>();
    for (const suite of this.test?.parent?.suites ?? []) lastOfFile.set(suite.file, suite);
    for (const suite of lastOfFile.values())
      suite.afterAll('end the workflows this file left running', async function () {
        this.timeout(60_000);
        const ended = await endLeftoverWorkflows();
        if (process.env.LOG_LEVEL && ended.length) console.log(`  ended: ${ended.join(', ')}`);
      });
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await Promise.all([teardownPlatform(), stopFaultProxy()]);
  },
};
