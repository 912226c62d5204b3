// Who is using the agent desk. Every desk route (pages, call data, WebRTC signaling) answers
// only a signed-in user, and what a user may do depends on the role.
import type { FastifyRequest } from 'fastify';

/** Agents take calls over; supervisors also listen in and whisper to the agent. */
export type DeskRole = 'agent' | 'supervisor';

export interface DeskUser {
  name: string;
  role: DeskRole;
}

/** The signed-in user behind a request, or undefined (the route then answers 401). */
export type AuthenticateDeskUser = (request: FastifyRequest) => DeskUser | undefined;
