// main.ts: the `batchwire` command: submit a JSONL file, follow a batch with a progress bar,
// download its results, cancel, retry, list, kinds, keys, and serve. Talks to the server through
// the typed client (BATCHWIRE_URL, BATCHWIRE_KEY); `keys` and `serve` work on the server's side.
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { Command, InvalidArgumentError, Option, type OptionValues } from "commander";
import { createClient, type Batch, type BatchStatus, type BatchwireClient, type TaskStatus } from "../client/index.ts";
import { follow, summary } from "./follow.ts";
import { addKeysCommand } from "./keys.ts";
import { batchLine, errorLine, ExitCode, exitCodeOf } from "./output.ts";

const TASK_STATUSES = ["QUEUED", "RUNNING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED"] as const;
const BATCH_STATUSES = ["QUEUED", "RUNNING", "CANCELING", "COMPLETED", "CANCELED", "EXPIRED"] as const;

interface SubmitFlags {
  kind?: string;
  priority?: number;
  idempotencyKey?: string;
  window?: number;
  metadata?: unknown;
  wait?: boolean;
}

interface GlobalOptions {
  url: string;
  key?: string;
  json: boolean;
}

const integer = (name: string) => (value: string) => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer`);
  return Number(value);
};

const jsonValue = (value: string) => {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new InvalidArgumentError("must be JSON");
  }
};

// ../../package.json from src/cli/ and from dist/cli/ alike.
const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

const program = new Command("batchwire")
  .version(version)
  .description("Submit batches of tasks to batchwire, follow them live, and download their results.")
  .addOption(new Option("--url <url>", "the server").env("BATCHWIRE_URL").default("http://localhost:4000"))
  .addOption(new Option("--key <key>", "an API key (bw_…); none while the server is open").env("BATCHWIRE_KEY"))
  .option("--json", "machine-readable output: JSON (one value a line)", false)
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "batchwire: ")) });

const globals = () => program.opts<GlobalOptions>();
const print = (text: string) => process.stdout.write(`${text}\n`);
const printBatch = (batch: Batch) => print(globals().json ? JSON.stringify(batch) : batchLine(batch));

/**
 * An action that runs `work` with a client (disposed after it) and the command's arguments and
 * flags; sets the exit code `work` returns.
 */
function withClient<Flags extends OptionValues = OptionValues>(work: (client: BatchwireClient, options: GlobalOptions, args: string[], flags: Flags) => Promise<number | void>) {
  return async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const options = globals();
    const client = createClient({ url: options.url, key: options.key });
    try {
      process.exitCode = (await work(client, options, command.processedArgs as string[], command.opts<Flags>())) ?? ExitCode.OK;
    } finally {
      await client.dispose();
    }
  };
}

/** Follows to the end, prints the summary, and returns the exit code the final state calls for. */
async function followToEnd(client: BatchwireClient, batchId: string, options: GlobalOptions): Promise<number> {
  const started = Date.now();
  const final = await follow(client, batchId, { bar: process.stdout.isTTY === true && !options.json, json: options.json });
  // The event carries the counts; the summary names the batch as a whole.
  const batch = (await client.batch(batchId)) ?? final;
  if (options.json) print(JSON.stringify(batch));
  else print(summary({ id: batch.id, status: final.status, counts: final.counts }, (Date.now() - started) / 1000));
  return exitCodeOf(final);
}

program
  .command("submit")
  .description("submit a JSONL file of tasks ({ \"customId\"?, \"kind\"?, \"input\" } a line); prints the batch id")
  .argument("<file>", "the JSONL file")
  .option("--kind <kind>", "the kind of lines that name none")
  .option("--priority <n>", "higher runs first (-1000 to 1000)", integer("priority"))
  .option("--idempotency-key <key>", "submitting again with this key returns the first batch")
  .option("--window <seconds>", "completion window: tasks not started by then expire", integer("window"))
  .option("--metadata <json>", "JSON stored with the batch", jsonValue)
  .option("--wait", "follow the batch to its end with a progress bar, then summarise it")
  .action(
    withClient<SubmitFlags>(async (client, options, [file], flags) => {
      const batch = await client.submit({
        file: file!,
        kind: flags.kind,
        priority: flags.priority,
        idempotencyKey: flags.idempotencyKey,
        completionWindowSeconds: flags.window,
        metadata: flags.metadata,
      });
      print(options.json ? JSON.stringify(batch) : batch.id);
      if (flags.wait) return followToEnd(client, batch.id, options);
    }),
  );

program
  .command("watch")
  .description("follow a batch to its end with a progress bar, then summarise it")
  .argument("<id>", "the batch id")
  .action(
    withClient(async (client, options, [id]) => {
      return followToEnd(client, id!, options);
    }),
  );

program
  .command("results")
  .description("download a batch's results as JSONL, one line per task in index order")
  .argument("<id>", "the batch id")
  .addOption(new Option("--status <status>", "only tasks in this status").choices(TASK_STATUSES))
  .option("-o, --output <file>", "write to this file instead of stdout")
  .action(
    withClient<{ status?: TaskStatus; output?: string }>(async (client, options, [id], flags) => {
      const body = Readable.fromWeb((await client.resultsBody(id!, { status: flags.status })) as WebReadableStream<Uint8Array>);
      let lines = 0;
      let bytes = 0;
      const counted = async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
          bytes += chunk.length;
          yield chunk;
        }
      };
      try {
        await pipeline(body, counted, flags.output ? createWriteStream(flags.output) : process.stdout);
      } catch (error) {
        // A reader that stops early (`| head`) is no error of ours.
        if ((error as { code?: string }).code !== "EPIPE") throw error;
      }
      if (flags.output) print(options.json ? JSON.stringify({ file: flags.output, lines, bytes }) : `wrote ${lines} lines to ${flags.output}`);
    }),
  );

program
  .command("cancel")
  .description("cancel a batch: queued tasks at once, running ones are aborted")
  .argument("<id>", "the batch id")
  .action(
    withClient(async (client, _options, [id]) => {
      printBatch(await client.cancel(id!));
    }),
  );

program
  .command("retry")
  .description("queue a batch's failed tasks again")
  .argument("<id>", "the batch id")
  .action(
    withClient(async (client, _options, [id]) => {
      printBatch(await client.retryFailed(id!));
    }),
  );

program
  .command("list")
  .description("your batches, newest first")
  .addOption(new Option("--status <status>", "only batches in this status").choices(BATCH_STATUSES))
  .option("--first <n>", "how many (at most 100)", integer("first"), 20)
  .action(
    withClient<{ status?: BatchStatus; first: number }>(async (client, options, _args, flags) => {
      const { batches } = await client.batches({ first: flags.first, status: flags.status });
      if (options.json) return void print(JSON.stringify(batches));
      for (const batch of batches) print(batchLine(batch));
    }),
  );

program
  .command("kinds")
  .description("the task kinds the server runs")
  .action(
    withClient(async (client, options) => {
      const kinds = await client.taskKinds();
      if (options.json) return void print(JSON.stringify(kinds));
      for (const kind of kinds) print(`${kind.name}\t${kind.description ?? ""}`);
    }),
  );

addKeysCommand(program, () => globals().json);

program
  .command("serve")
  .description("run the server (as `npm start`; configured by its environment variables)")
  .action(async () => {
    await import("../main.ts");
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`batchwire: ${errorLine(error)}\n`);
  process.exitCode = ExitCode.ERROR;
}
