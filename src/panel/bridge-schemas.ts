import { z } from 'zod';
import { DELIVERY_STATUSES, type BridgeMethod, type PanelBridge } from './bridge.js';

const eventId = z.string().min(1).max(64);
const relayId = z.string().min(1).max(128);

export const EventQuerySchema = z.strictObject({
  statuses: z
    .array(z.enum(DELIVERY_STATUSES as [string, ...string[]]))
    .max(5)
    .optional(),
  relay: relayId.optional(),
  search: z.string().max(256).optional(),
  offset: z.number().int().min(0).max(1_000_000).optional(),
  limit: z.number().int().min(1).max(500).optional(),
});

/** Argument lists of every bridge method; the settings object is checked by its own schema. */
export const BRIDGE_ARGUMENTS = {
  info: z.tuple([]),
  listEvents: z.tuple([EventQuerySchema]),
  eventDetail: z.tuple([eventId]),
  retryNow: z.tuple([eventId]),
  replay: z.tuple([eventId]),
  discard: z.tuple([eventId]),
  sendTestEvent: z.tuple([relayId]),
  exportLog: z.tuple([]),
  clearDelivered: z.tuple([]),
  resumeRelay: z.tuple([relayId]),
  stats: z.tuple([]),
  getSettings: z.tuple([]),
  validateSettings: z.tuple([z.unknown()]),
  saveSettings: z.tuple([z.unknown()]),
} satisfies Record<BridgeMethod, z.ZodType>;

export const BRIDGE_METHODS = Object.keys(BRIDGE_ARGUMENTS) as BridgeMethod[];

export function isBridgeMethod(name: unknown): name is BridgeMethod {
  return typeof name === 'string' && Object.hasOwn(BRIDGE_ARGUMENTS, name);
}

/** Rejection of a bridge call whose method or arguments are invalid. */
export class BridgeArgumentError extends Error {
  readonly code = 'ERR_BRIDGE_ARGUMENT';
}

/**
 * Checks a call that arrived over HTTP or IPC and runs it on `bridge`. Throws
 * BridgeArgumentError naming the method and the field when the call is invalid.
 */
export async function dispatchBridgeCall(
  bridge: Omit<PanelBridge, 'subscribe'>,
  method: unknown,
  args: unknown,
): Promise<unknown> {
  if (!isBridgeMethod(method)) {
    throw new BridgeArgumentError(`unknown panel method: ${String(method).slice(0, 64)}`);
  }

  const parsed = BRIDGE_ARGUMENTS[method].safeParse(args);

  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : issue.path.join('.');
    throw new BridgeArgumentError(
      `${method}: invalid argument ${where}: ${issue?.message ?? 'invalid value'}`,
    );
  }

  const call = bridge[method] as (...values: unknown[]) => Promise<unknown>;
  return call.apply(bridge, parsed.data as unknown[]);
}
