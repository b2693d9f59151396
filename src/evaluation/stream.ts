/** Reading and writing labelled streams as NDJSON, one event per line. */
import { LabelledLineSchema, type LabelledLine } from "../contracts/evaluation.js";
import { toIssues } from "../contracts/issues.js";
import { InputInvalidError, InputNotJsonError } from "../errors.js";

/**
 * The stream's events in time order (events at the same second keep their order). A line that is
 * not JSON or not an event is an error naming its line number (1-based).
 */
export function parseStream(text: string): LabelledLine[] {
  const events: { line: LabelledLine; time: number; i: number }[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new InputNotJsonError(`line ${i + 1}: ${(err as Error).message}`);
    }
    const parsed = LabelledLineSchema.safeParse(value);
    if (!parsed.success) throw new InputInvalidError(toIssues(parsed.error, `line ${i + 1}`));
    const line = parsed.data;
    events.push({ line, time: "input" in line ? line.input.now : line.time, i });
  });
  return events.sort((a, b) => a.time - b.time || a.i - b.i).map((e) => e.line);
}

export function formatStream(lines: readonly LabelledLine[]): string {
  return lines.map((line) => JSON.stringify(line)).join("\n") + "\n";
}
