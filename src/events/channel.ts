// channel.ts: the NOTIFY channel that tells API processes a batch changed (ids and a version only).

export const BATCH_CHANGED_CHANNEL = "batchwire_batch_changed";

/** What one NOTIFY carries: the batch id and its version after the change (well under 8,000 bytes). */
export interface BatchChangedPayload {
  b: string;
  v: number;
}

export function parseBatchChanged(payload: string | undefined): BatchChangedPayload | undefined {
  if (!payload) return undefined;
  try {
    const value = JSON.parse(payload) as Partial<BatchChangedPayload>;
    return typeof value.b === "string" && typeof value.v === "number" ? { b: value.b, v: value.v } : undefined;
  } catch {
    return undefined;
  }
}
