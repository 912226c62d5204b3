// mocha root hooks: the shared platform is stopped once, after every test file ran.
import { teardownPlatform } from './platform';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await teardownPlatform();
  },
};
