// `switchboard desk-user <name> <role>`: reads a password from stdin and prints the user's
// DESK_USERS entry (name:role:scrypt hash). The password itself is never stored or printed.
import type { Command } from 'commander';
import { parseUsers } from '../media-edge/desk/desk-config';
import { hashPassword } from '../media-edge/desk/passwords';

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (input is shown; pipe it in to hide it): '); // prettier-ignore
  let input = '';
  for await (const chunk of process.stdin) {
    input += String(chunk);
    if (input.includes('\n')) break;
  }
  return input.split(/\r?\n/)[0] ?? '';
}

/** The DESK_USERS entry for a user; throws on a bad name, role or short password. */
export async function deskUserEntry(name: string, role: string, password: string): Promise<string> {
  const entry = `${name}:${role}:${await hashPassword(password)}`;
  parseUsers(entry); // the same checks the edge makes at start
  return entry;
}

export function registerDeskUserCommand(program: Command): void {
  program
    .command('desk-user')
    .description(
      'print the DESK_USERS entry for an agent desk user; the password is read from stdin ' +
        '(add entries to DESK_USERS, comma-separated)',
    )
    .argument('<name>', 'sign-in name (letters, digits, . _ @ -)')
    .argument('<role>', 'agent or supervisor')
    .action(async (name: string, role: string) => {
      try {
        console.log(await deskUserEntry(name, role, await readPassword()));
      } catch (err) {
        console.error(`[switchboard] error: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}
