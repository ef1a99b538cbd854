// workload.ts: what the chaos run asks of batchwire, planned from the seeded workload stream:
// batches of mixed kinds, bulk echo batches, batches it cancels mid-run and batches whose
// completion window closes before their slow tasks can all start. Every submit carries an
// idempotency key, so one retried after a fault can never create a second batch.
import { setTimeout as sleep } from "node:timers/promises";
import type { GraphQLHttp } from "./graphql.ts";
import type { Random } from "./random.ts";

export type Scenario = "mixed" | "bulk" | "cancel" | "expiry";
const SCENARIOS: Record<Scenario, number> = { mixed: 5, bulk: 1, cancel: 2, expiry: 1.5 };

interface TaskInput {
  kind: string;
  input: unknown;
  customId?: string;
}

export interface SubmittedBatch {
  id: string;
  seq: number;
  scenario: Scenario;
  idempotencyKey: string;
  tasks: number;
  byKind: Record<string, number>;
  completionWindowSeconds: number | undefined;
  /** The batch's status in the first cancelBatch answer, when the run canceled it. */
  canceled: string | undefined;
}

interface Plan {
  scenario: Scenario;
  tasks: TaskInput[];
  completionWindowSeconds?: number;
  priority: number;
  cancelAfterMs?: number;
}

function mixedTask(random: Random, index: number): TaskInput {
  switch (random.weighted({ echo: 55, sleep: 20, fail: 15, timeout: 10 })) {
    case "echo":
      return { kind: "chaos.echo", input: { index, note: "echo" } };
    case "sleep":
      return { kind: "chaos.sleep", input: { ms: random.int(50, 1_500) } };
    case "fail": // 3 failures is one more than chaos.fail's retryLimit: such a task ends FAILED
      return { kind: "chaos.fail", input: { times: random.int(0, 3), ms: random.int(0, 300) } };
    case "timeout":
      return { kind: "chaos.timeout", input: { ms: random.int(1_500, 3_000) } };
  }
}

function plan(random: Random): Plan {
  const scenario = random.weighted(SCENARIOS);
  const priority = random.int(0, 1);
  const times = (n: number, make: (i: number) => TaskInput) => Array.from({ length: n }, (_, i) => make(i));
  switch (scenario) {
    case "mixed":
      return { scenario, priority, tasks: times(random.int(10, 60), (i) => mixedTask(random, i)) };
    case "bulk":
      return { scenario, priority, tasks: times(random.int(200, 400), (i) => ({ kind: "chaos.echo", input: i })) };
    case "cancel":
      return {
        scenario,
        priority,
        tasks: times(random.int(10, 30), () => ({ kind: "chaos.sleep", input: { ms: random.int(500, 3_000) } })),
        cancelAfterMs: random.int(200, 4_000),
      };
    case "expiry":
      return {
        scenario,
        priority,
        tasks: times(random.int(20, 40), () => ({ kind: "chaos.sleep", input: { ms: random.int(1_000, 2_500) } })),
        completionWindowSeconds: random.int(2, 4),
      };
  }
}

const SUBMIT = `mutation Submit($input: SubmitBatchInput!) { submitBatch(input: $input) { batch { id status } } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelBatch(id: $id) { batch { id status } } }`;

export class Workload {
  readonly batches: SubmittedBatch[] = [];
  /** Submits and cancels that never got through, with why: each one a finding. */
  readonly failures: string[] = [];
  readonly #http: GraphQLHttp;
  readonly #random: Random;
  readonly #seed: number;
  readonly #cancels: Promise<void>[] = [];

  constructor(http: GraphQLHttp, random: Random, seed: number) {
    this.#http = http;
    this.#random = random;
    this.#seed = seed;
  }

  /** Submits batches one after another until `until` (epoch ms); `onSubmitted` subscribes to each. */
  async run(until: number, giveUpAt: number, onSubmitted: (batch: SubmittedBatch) => void): Promise<void> {
    while (Date.now() < until) {
      const next = plan(this.#random);
      const gapMs = this.#random.int(300, 2_000);
      const seq = this.batches.length + this.failures.length + 1;
      const idempotencyKey = `chaos-${this.#seed}-${seq}`;
      const customIds = this.#random.chance(0.5);
      const input = {
        idempotencyKey,
        priority: next.priority,
        metadata: { chaos: next.scenario, seq },
        ...(next.completionWindowSeconds ? { completionWindowSeconds: next.completionWindowSeconds } : {}),
        tasks: customIds ? next.tasks.map((t, i) => ({ ...t, customId: `c${i}` })) : next.tasks,
      };
      try {
        const { submitBatch } = await this.#http.request<{ submitBatch: { batch: { id: string } } }>(SUBMIT, { input }, giveUpAt);
        const byKind: Record<string, number> = {};
        for (const task of next.tasks) byKind[task.kind] = (byKind[task.kind] ?? 0) + 1;
        const batch: SubmittedBatch = {
          id: submitBatch.batch.id,
          seq,
          scenario: next.scenario,
          idempotencyKey,
          tasks: next.tasks.length,
          byKind,
          completionWindowSeconds: next.completionWindowSeconds,
          canceled: undefined,
        };
        this.batches.push(batch);
        onSubmitted(batch);
        if (next.cancelAfterMs !== undefined) this.#cancels.push(this.#cancelLater(batch, next.cancelAfterMs, giveUpAt));
      } catch (error) {
        this.failures.push(`submit ${idempotencyKey} (${next.scenario}): ${(error as Error).message}`);
      }
      await sleep(gapMs);
    }
  }

  async #cancelLater(batch: SubmittedBatch, afterMs: number, giveUpAt: number): Promise<void> {
    await sleep(afterMs);
    try {
      const { cancelBatch } = await this.#http.request<{ cancelBatch: { batch: { status: string } } }>(CANCEL, { id: batch.id }, giveUpAt);
      batch.canceled = cancelBatch.batch.status;
    } catch (error) {
      this.failures.push(`cancel of batch ${batch.id}: ${(error as Error).message}`);
    }
  }

  /** Waits for the cancels still scheduled. */
  async drain(): Promise<void> {
    await Promise.all(this.#cancels);
  }
}
