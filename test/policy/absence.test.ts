/**
 * Absence never pays. Every nullable field of the input contract says whether a requester can
 * withhold it (src/contracts/input.ts, `withholding`); for every field that can be withheld, a
 * request without it must never get a better outcome or a weaker requirement than the same
 * request carrying the worst value the field can have. The fields come from the contract itself,
 * so a new signal cannot be added without saying which it is, and a withholdable one is checked
 * here without anyone writing a case for it.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Decision, Requirement } from "../../src/contracts/decision.js";
import { InputSchema, withholding, type Input, type Withholding } from "../../src/contracts/input.js";
import type { Stepup } from "../../src/stepup.js";
import { inputArb } from "../support/arbitraries.js";
import { testStepup } from "../helpers.js";

const RUNS = { numRuns: 400, seed: 20261206 };
const OUTCOME_RANK = { allow: 0, step_up: 1, deny: 2 } as const;

interface Field {
  readonly path: readonly string[];
  readonly nullable: boolean;
  readonly withholding: Withholding | undefined;
}

/** Every field of the contract, with whether it accepts null and what it is registered as. */
function fieldsOf(schema: z.ZodType, path: string[] = []): Field[] {
  const out: Field[] = [];
  const meta = withholding.get(schema);
  const nullable = schema.safeParse(null).success;
  if (path.length > 0) out.push({ path, nullable, withholding: meta });
  let inner: z.ZodType = schema;
  for (;;) {
    if (inner instanceof z.ZodDefault || inner instanceof z.ZodNullable || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
    else break;
  }
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) out.push(...fieldsOf(child, [...path, key]));
  }
  return out;
}

const FIELDS = fieldsOf(InputSchema);
const WITHHOLDABLE = FIELDS.filter((f) => f.withholding?.kind === "withholdable");

function at(input: Input, path: readonly string[], value: unknown): Input | undefined {
  const copy = structuredClone(input) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) return undefined; // the parent is absent itself
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return copy as Input;
}

/** Whether `a` asks at least as much as `b`. */
function atLeastAsStrict(a: Requirement, b: Requirement): boolean {
  if (a.kind !== "session" || b.kind !== "session") return true;
  const aal = (r: Requirement & { kind: "session" }) => Number(r.aal.slice(3));
  return aal(a) >= aal(b) && (a.phishing_resistant || !b.phishing_resistant) && a.max_age <= b.max_age;
}

let stepup: Stepup;
beforeAll(async () => {
  stepup = await testStepup();
});

describe("the input contract", () => {
  it("says of every nullable field whether a requester can withhold it", () => {
    const unsaid = FIELDS.filter((f) => f.nullable && f.withholding === undefined).map((f) => f.path.join("."));
    expect(unsaid).toEqual([]);
    expect(WITHHOLDABLE.map((f) => f.path.join("."))).toEqual(
      expect.arrayContaining(["session", "session.acr", "device", "device.managed", "familiarity", "credential"]),
    );
  });

  it("gives a worst value for each withholdable field that the contract accepts", () => {
    for (const field of WITHHOLDABLE) {
      const worst = (field.withholding as Extract<Withholding, { kind: "withholdable" }>).worst;
      const sample = fc.sample(inputArb, { seed: 1, numRuns: 50 }).map((i) => at(i, field.path, worst)).find((i) => i !== undefined);
      expect(sample, field.path.join(".")).toBeDefined();
      expect(() => InputSchema.parse(sample), field.path.join(".")).not.toThrow();
    }
  });
});

describe.each(WITHHOLDABLE.map((f) => [f.path.join("."), f] as const))("absence of %s", (_name, field) => {
  const worst = (field.withholding as Extract<Withholding, { kind: "withholdable" }>).worst;

  it("never gets a better outcome or a weaker requirement than its worst value", () => {
    let compared = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const absent = at(input, field.path, null);
        const worse = at(input, field.path, worst);
        if (!absent || !worse) return;
        const without: Decision = stepup.decideInput(absent);
        const withWorst: Decision = stepup.decideInput(worse);
        // Exceptions are explicit, scoped relaxations a person approved; they are not an absence.
        if (without.exceptions.length > 0 || withWorst.exceptions.length > 0) return;
        compared++;
        const detail = `${field.path.join(".")}: without ${without.outcome}, worst ${withWorst.outcome}`;
        expect(OUTCOME_RANK[without.outcome], detail).toBeGreaterThanOrEqual(OUTCOME_RANK[withWorst.outcome]);
        if (without.outcome === withWorst.outcome) expect(atLeastAsStrict(without.requirement, withWorst.requirement), detail).toBe(true);
      }),
      RUNS,
    );
    expect(compared).toBeGreaterThan(RUNS.numRuns / 10);
  });
});
