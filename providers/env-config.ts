// Env configuration parsed once at start-up: unset and empty variables alike take the
// schema's default, and every problem is reported in one error.
import type { z } from 'zod';

export function parseEnvConfig<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv, what: string): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid ${what} configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
