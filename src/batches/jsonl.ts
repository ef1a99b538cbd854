// jsonl.ts: cuts a stream of bytes into numbered lines of UTF-8 text as it arrives, holding at
// most one line (of at most `maxLineBytes`) at a time. No Node APIs: the typed client uses it too.

export type Line =
  /** `number` is 1-based; the text has no line ending. */
  | { number: number; text: string }
  /** A line that cannot be read as text: too long (its bytes are skipped unkept) or not UTF-8. */
  | { number: number; problem: string };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = "\uFEFF";

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const whole = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}

export async function* lines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<Line> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let pending: Uint8Array[] = [];
  /** Bytes of the current line seen so far, kept or not. */
  let lineBytes = 0;
  let number = 1;

  const finishLine = (): Line => {
    const line = number++;
    const length = lineBytes;
    const parts = pending;
    pending = [];
    lineBytes = 0;
    if (length > maxLineBytes) return { number: line, problem: `the line is ${length} bytes long; at most ${maxLineBytes} are read` };
    let bytes = parts.length === 1 ? parts[0]! : concat(parts, length);
    if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { number: line, problem: "the line is not valid UTF-8" };
    }
    return { number: line, text: line === 1 && text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text };
  };

  const keep = (part: Uint8Array) => {
    lineBytes += part.length;
    if (lineBytes > maxLineBytes) pending = []; // too long: count the rest of it, keep none of it
    else if (part.length > 0) pending.push(part);
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      keep(chunk.subarray(start, end));
      yield finishLine();
      start = end + 1;
    }
    // A copy: the producer may reuse its chunk's memory once we ask for the next one.
    if (start < chunk.length) keep(Uint8Array.prototype.slice.call(chunk, start));
  }
  if (lineBytes > 0) yield finishLine();
}
