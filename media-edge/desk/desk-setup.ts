// The agent desk as the edge process serves it, from the environment: no desk users → no
// desk (and the reason, for the edge's log); a bad setting → an error at start.
import type { Client } from '@temporalio/client';
import type { ObjectStore } from '../../providers/object-store/port';
import { DeskAuth } from './desk-auth';
import { DeskCalls } from './desk-calls';
import { loadDeskConfig } from './desk-config';
import type { DeskRoutesOptions } from './desk-routes';

export interface DeskSetupDeps {
  client: Client;
  recordings: Pick<ObjectStore, 'get'>;
  mediaScripts?: readonly string[];
  log: DeskRoutesOptions['log'];
}

export function deskFromEnv(
  env: Record<string, string | undefined>,
  deps: DeskSetupDeps,
): { routes: DeskRoutesOptions } | { off: string } {
  const setting = loadDeskConfig(env);
  if ('off' in setting) return setting;
  return {
    routes: {
      auth: new DeskAuth(setting.config),
      calls: new DeskCalls(deps.client),
      recordings: deps.recordings,
      ...(deps.mediaScripts && { mediaScripts: deps.mediaScripts }),
      log: deps.log,
    },
  };
}
