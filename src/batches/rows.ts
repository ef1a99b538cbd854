// rows.ts: the batch and task rows as the SQL in batches/sql and worker/ reads them.

export const BatchStatus = {
  QUEUED: "QUEUED",
  RUNNING: "RUNNING",
  CANCELING: "CANCELING",
  COMPLETED: "COMPLETED",
  CANCELED: "CANCELED",
  EXPIRED: "EXPIRED",
} as const;
export type BatchStatus = (typeof BatchStatus)[keyof typeof BatchStatus];

export const TaskStatus = {
  QUEUED: "QUEUED",
  RUNNING: "RUNNING",
  RETRYING: "RETRYING",
  SUCCEEDED: "SUCCEEDED",
  FAILED: "FAILED",
  CANCELED: "CANCELED",
  /** Not started before its batch's completion window closed. */
  EXPIRED: "EXPIRED",
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const FINAL_BATCH_STATUSES: readonly BatchStatus[] = ["COMPLETED", "CANCELED", "EXPIRED"];

export interface BatchRow {
  id: string;
  seq: number;
  owner: string;
  status: BatchStatus;
  priority: number;
  metadata: unknown;
  idempotency_key: string | null;
  request_hash: string | null;
  total: number;
  queued: number;
  running: number;
  retrying: number;
  succeeded: number;
  failed: number;
  canceled: number;
  expired: number;
  version: number;
  retention_seconds: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  /** When a finished batch (and its tasks) will be deleted. */
  purge_at: Date | null;
}

export interface TaskRow {
  id: string;
  batch_id: string;
  index: number;
  custom_id: string | null;
  kind: string;
  input: unknown;
  status: TaskStatus;
  attempts: number;
  result: unknown;
  error: { message: string; code: string } | null;
  progress: number | null;
  batch_version: number;
  job_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuids; anything else cannot name a row, so callers answer "not found" without a query. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
