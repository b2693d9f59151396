/**
 * The bundle build derives `data.stepup.exception_index` (subject → exception ids) from the
 * config's exceptions, which the policy looks a request's subject up in: it must list every
 * subject of every exception, and nothing else.
 */
import { describe, expect, it, inject } from "vitest";
import { Stepup } from "../../src/stepup.js";

describe("the exception index in a built bundle", () => {
  it("lists each exception under each of its subjects, and nothing else", async () => {
    const stepup = await Stepup.load(inject("bundlePath"));
    const data = stepup.bundle.data as { stepup: { config: { exceptions: Record<string, { subjects: Record<string, true> }> }; exception_index: unknown } };
    const expected: Record<string, Record<string, true>> = {};
    for (const [id, exception] of Object.entries(data.stepup.config.exceptions)) {
      for (const subject of Object.keys(exception.subjects)) (expected[subject] ??= {})[id] = true;
    }
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    expect(data.stepup.exception_index).toEqual(expected);
  });
});
