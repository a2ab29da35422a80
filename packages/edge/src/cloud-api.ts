/** The gateway's calls to the cloud API with its device token, and the clock offset each answer's Date header tells. */

import type { Config } from "./config";
import { upload } from "./config";
import { isDiskFull } from "./health";
import type { Outbox } from "./outbox";
import type { CloudAnswer } from "./trust";

/** Who calls and where answers' times go; `offsetSavedAt` is when the clock offset was last written (ms). */
export type CloudApi = {
  config: Config;
  outbox: Outbox;
  now?(): number;
  onServerTime?(answer: CloudAnswer): void;
  onDiskFull?(error: unknown): void;
  offsetSavedAt: number;
};

/**
 * Calls the API with the device token (and `headers`, e.g. If-None-Match), noting the clock offset from the Date
 * header in the outbox at most once a minute; also returns the wall clock when the request left and when the answer came (for an
 * answer that carries its own `serverTime`, finer than the Date header's second).
 */
export async function fetchApiTimed(
  api: CloudApi,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ response: Response; sentWallMs: number; receivedWallMs: number }> {
  const { config, outbox } = api;
  const wall = api.now ?? Date.now;
  const sentAt = Date.now();
  const sentWallMs = wall();
  const response = await fetch(`${config.api.url.replace(/\/$/, "")}${path}`, {
    method,
    headers: { ...headers, authorization: `Bearer ${config.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(upload.requestTimeoutMs),
  });
  const receivedWallMs = wall();
  const date = response.headers.get("date");
  const serverMs = date ? Date.parse(date) : Number.NaN;
  if (Number.isFinite(serverMs)) api.onServerTime?.({ serverMs, resolutionMs: 1000, sentWallMs, receivedWallMs });
  if (Number.isFinite(serverMs) && Date.now() - api.offsetSavedAt > 60_000) {
    const receivedAt = Date.now();
    // The Date header has 1 s resolution: the offset is known to ±0.5 s plus half the round trip.
    try {
      outbox.setMeta("clock_offset_ms", String(Math.round(serverMs + 500 - (sentAt + receivedAt) / 2)));
      api.offsetSavedAt = receivedAt;
    } catch (error) {
      // A full disk must not make a delivered answer look like a failed call (the readings would be sent for ever).
      if (!isDiskFull(error)) throw error;
      api.onDiskFull?.(error);
    }
  }
  return { response, sentWallMs, receivedWallMs };
}
