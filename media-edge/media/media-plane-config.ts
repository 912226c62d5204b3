// The media plane's settings, read once from the environment. The worker binary itself is
// MEDIASOUP_WORKER_BIN, which mediasoup reads (the launcher sets it to the project's build).
import { z } from 'zod';
import { parseEnvConfig } from '../../providers/env-config';

const schema = z.object({
  /** on: the edge runs a mediasoup worker and bridges its calls into it (human agents). */
  MEDIA_PLANE: z.enum(['on', 'off']).default('on'),
  /** Where the desk's WebRTC transports listen. */
  MEDIASOUP_LISTEN_IP: z.string().default('127.0.0.1'),
  /** The address browsers are told to send to, when not the listen IP (NAT, 0.0.0.0). */
  MEDIASOUP_ANNOUNCED_ADDRESS: z.string().optional(),
  /** The UDP ports WebRTC transports take, one per transport. */
  MEDIASOUP_RTC_MIN_PORT: z.coerce.number().int().min(1024).max(65_535).default(40_000),
  MEDIASOUP_RTC_MAX_PORT: z.coerce.number().int().min(1024).max(65_535).default(40_999),
});

export interface MediaPlaneConfig {
  enabled: boolean;
  listenIp: string;
  announcedAddress?: string;
  rtcMinPort: number;
  rtcMaxPort: number;
}

export function loadMediaPlaneConfig(env: NodeJS.ProcessEnv = process.env): MediaPlaneConfig {
  const e = parseEnvConfig(schema, env, 'media plane');
  if (e.MEDIASOUP_RTC_MIN_PORT > e.MEDIASOUP_RTC_MAX_PORT)
    throw new Error(
      'invalid media plane configuration: MEDIASOUP_RTC_MIN_PORT is above MEDIASOUP_RTC_MAX_PORT',
    );
  return {
    enabled: e.MEDIA_PLANE === 'on',
    listenIp: e.MEDIASOUP_LISTEN_IP,
    ...(e.MEDIASOUP_ANNOUNCED_ADDRESS && { announcedAddress: e.MEDIASOUP_ANNOUNCED_ADDRESS }),
    rtcMinPort: e.MEDIASOUP_RTC_MIN_PORT,
    rtcMaxPort: e.MEDIASOUP_RTC_MAX_PORT,
  };
}
