/**
 * Validation of the input document. Everything the caller sends is untrusted until it passes here
 * (or through the engine's checked writer, which applies the same contract while it writes the
 * document into the policy's memory); a failure names the field and never reaches the policy. The
 * common case — a valid document — takes the compiled path: the contract's JSON Schema compiled
 * (compile.ts) into one pass that checks the document and fills in its defaults; zod, the
 * contract's one source, names the problems when there are any.
 */
import { INPUT_JSON_SCHEMAS } from "../contracts/generated/input-schema.js";
import { InputSchema, type Input } from "../contracts/input.js";
import { toIssues } from "../contracts/issues.js";
import { InputInvalidError, InputNotJsonError } from "../errors.js";
import { compileNormalizer, INVALID, type Schema } from "./compile.js";
import { snapshotInput } from "./snapshot.js";

/**
 * The input contract's JSON Schema as zod generates it: of a caller's document (`input`, with the
 * defaults of absent fields) or of a validated one (`output`, every field present). What the
 * contract's compiled forms — here and the engine's writers — are compiled from. Generated ahead
 * of time (src/contracts/generated/), not in every process that starts.
 */
export function inputJsonSchema(io: "input" | "output"): Schema {
  schemas ??= JSON.parse(INPUT_JSON_SCHEMAS) as Readonly<Record<"input" | "output", Schema>>;
  return schemas[io];
}

let schemas: Readonly<Record<"input" | "output", Schema>> | undefined;

let checkAndNormalize: ((value: unknown) => unknown) | undefined;
let normalize: ((value: unknown) => unknown) | undefined;

/**
 * Validates an input document and fills every unknown with null, in a new document: the caller's
 * is read once (snapshot.ts), and a string that is not Unicode text is refused like any other
 * breach of the contract.
 */
export function parseInput(raw: unknown): Input {
  return parseSnapshot(snapshotInput(raw));
}

/** `parseInput` on a document `snapshotInput` already copied. */
export function parseSnapshot(doc: unknown): Input {
  checkAndNormalize ??= compileNormalizer(inputJsonSchema("input"), { checked: true });
  const normalized = checkAndNormalize(doc);
  if (normalized !== INVALID) return normalized as Input;
  const result = InputSchema.safeParse(doc);
  if (!result.success) throw new InputInvalidError(toIssues(result.error));
  // Only a disagreement between the compiled check and zod gets here; zod's answer stands.
  return result.data;
}

/**
 * Fills every unknown of a document that already meets the input contract (checked by
 * `parseInput`, or by the engine's checked writer) with null, in a new document.
 */
export function normalizeInput(checked: unknown): Input {
  normalize ??= compileNormalizer(inputJsonSchema("input"));
  return normalize(checked) as Input;
}

/** Parses JSON text, then validates it as an input document. */
export function parseInputText(text: string): Input {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputNotJsonError(`input is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseInput(raw);
}
