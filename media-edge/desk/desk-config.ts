// The agent desk's configuration, from the environment: its users (name, role and password
// hash; never a password), the session cookie's signing secret and lifetime. No users: the
// desk is not served (there is no anonymous desk).
import { z } from 'zod';
import type { DeskRole } from './desk-user';
import { checkHashFormat } from './passwords';

export interface DeskAccount {
  role: DeskRole;
  passwordHash: string;
}

export interface DeskConfig {
  users: ReadonlyMap<string, DeskAccount>;
  sessionSecret: string;
  sessionTtlMs: number;
}

export type DeskSetting = { config: DeskConfig } | { off: string };

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

const schema = z.object({
  DESK_USERS: z.string().optional(),
  DESK_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DESK_SESSION_TTL_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .default(8 * 3_600_000),
});

/** Throws one Error naming every bad variable (never its value). */
export function loadDeskConfig(env: Record<string, string | undefined> = process.env): DeskSetting {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')); // prettier-ignore
  const parsed = schema.safeParse(present);
  if (!parsed.success)
    throw new Error(`Invalid agent desk configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`); // prettier-ignore
  const e = parsed.data;
  if (!e.DESK_USERS) return { off: 'DESK_USERS is not set: the agent desk is not served' };
  if (!e.DESK_SESSION_SECRET)
    throw new Error('Invalid agent desk configuration: DESK_SESSION_SECRET is required with DESK_USERS'); // prettier-ignore
  return {
    config: {
      users: parseUsers(e.DESK_USERS),
      sessionSecret: e.DESK_SESSION_SECRET,
      sessionTtlMs: e.DESK_SESSION_TTL_MS,
    },
  };
}

/** `name:role:hash,name:role:hash`; a bad entry is named by its position and user only. */
export function parseUsers(value: string): Map<string, DeskAccount> {
  const users = new Map<string, DeskAccount>();
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const [name = '', role = '', ...rest] = entry.split(':');
      const passwordHash = rest.join(':');
      const where = `DESK_USERS entry ${i + 1}${NAME.test(name) ? ` (${name})` : ''}`;
      if (!NAME.test(name)) throw new Error(`${where}: the name may hold letters, digits, . _ @ -`);
      if (role !== 'agent' && role !== 'supervisor')
        throw new Error(`${where}: the role is agent or supervisor`);
      try {
        checkHashFormat(passwordHash);
      } catch (err) {
        throw new Error(`${where}: the password ${(err as Error).message}`);
      }
      if (users.has(name)) throw new Error(`${where}: the user is listed twice`);
      users.set(name, { role, passwordHash });
    });
  if (users.size === 0) throw new Error('DESK_USERS lists no user');
  return users;
}
