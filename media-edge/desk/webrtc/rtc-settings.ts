// Where the desk's WebRTC transports listen: the address mediasoup binds, the address it puts
// in its ICE candidates (a public one when the edge sits behind NAT) and the UDP ports it may
// take. Read once from the environment; a bad value names the variable.
import { z } from 'zod';

export interface DeskRtcSettings {
  /** The local address the transports bind (UDP). */
  listenIp: string;
  /** The address browsers are told to send to, if not listenIp (NAT, a public IP or name). */
  announcedAddress?: string;
  portRange: { min: number; max: number };
}

const port = z.coerce.number().int().min(1024).max(65_535);

const schema = z
  .object({
    DESK_RTC_LISTEN_IP: z.ipv4().or(z.ipv6()).default('127.0.0.1'),
    DESK_RTC_ANNOUNCED_ADDRESS: z.string().min(1).optional(),
    DESK_RTC_MIN_PORT: port.default(40_000),
    DESK_RTC_MAX_PORT: port.default(49_999),
  })
  .refine((e) => e.DESK_RTC_MIN_PORT <= e.DESK_RTC_MAX_PORT, {
    message: 'DESK_RTC_MIN_PORT must not be above DESK_RTC_MAX_PORT',
  });

export function deskRtcSettingsFromEnv(
  env: Record<string, string | undefined> = process.env,
): DeskRtcSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new Error(
      'desk WebRTC settings: ' +
        parsed.error.issues.map((i) => `${i.path.join('.') || 'ports'} ${i.message}`).join('; '),
    );
  const e = parsed.data;
  return {
    listenIp: e.DESK_RTC_LISTEN_IP,
    announcedAddress: e.DESK_RTC_ANNOUNCED_ADDRESS,
    portRange: { min: e.DESK_RTC_MIN_PORT, max: e.DESK_RTC_MAX_PORT },
  };
}
