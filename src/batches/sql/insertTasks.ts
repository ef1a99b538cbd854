// insertTasks.ts: writes a batch's tasks with one COPY, streamed row by row.
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import type { PoolClient } from "../../db/pool.ts";

export interface NewTask {
  id: string;
  index: number;
  customId: string | null;
  kind: string;
  /** The input as the client gave it, serialised. */
  inputJson: string;
}

// COPY's text format escapes these four in a value; NULL is \N.
const SPECIAL = /[\\\n\r\t]/g;
const ESCAPED: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const text = (value: string) => value.replace(SPECIAL, (c) => ESCAPED[c]!);

/** Rows gathered into pieces of about this many characters before they are handed to the socket. */
const PIECE_CHARS = 64 * 1024;

function* rows(batchId: string, tasks: NewTask[]): Generator<string> {
  let piece = "";
  for (const task of tasks) {
    const customId = task.customId === null ? "\\N" : text(task.customId);
    piece += `${task.id}\t${batchId}\t${task.index}\t${customId}\t${text(task.kind)}\t${text(task.inputJson)}\n`;
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = "";
    }
  }
  if (piece.length > 0) yield piece;
}

/**
 * COPY rather than one insert over arrays: pg turns each array parameter into one string and then
 * one message, a few copies of every input at once; COPY sends the rows as they are made.
 */
export async function insertTasks(client: PoolClient, batchId: string, tasks: NewTask[]): Promise<void> {
  await pipeline(rows(batchId, tasks), client.query(copyFrom("copy task (id, batch_id, index, custom_id, kind, input) from stdin")));
}
