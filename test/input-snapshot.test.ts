/**
 * What `decide` takes from a caller: read once, and only as text that exists. A string with a
 * lone surrogate once passed validation and failed in the engine (a fail-closed deny instead of an
 * input error); a getter read more than once could make what was evaluated differ from what was
 * logged. Here both come in every way a document does — `decide`, `parseInput`, NDJSON on one
 * thread and on the pool, the CLI.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import type { Decision } from "../src/contracts/decision.js";
import type { Input } from "../src/contracts/input.js";
import type { DecisionEvent } from "../src/decision/conclude.js";
import { InputInvalidError } from "../src/errors.js";
import { parseInput } from "../src/input/validate.js";
import { Stepup } from "../src/stepup.js";
import { runCli } from "./helpers.js";

const NOW = 1_795_852_800;
const base = () => ({
  now: NOW,
  subject: { id: "alice@example.com", kind: "human", roles: ["staff", "eng"] },
  session: { acr: "phr", amr: ["hwk"], auth_time: NOW - 60 },
  device: { id: "laptop-1", attested: false },
  target: { app: "wiki", action: "read", resource: "/wiki/home" },
});

/** Places a string in a document at a path such as `subject.roles[1]`. */
function withText(path: string, text: string): Record<string, unknown> {
  const doc = base() as Record<string, any>;
  const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  let node = doc;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys.at(-1)!] = text;
  return doc;
}

const FIELDS = ["subject.id", "subject.roles[1]", "session.acr", "session.amr[0]", "device.id", "target.app", "target.action", "target.resource"];
const UNENCODABLE = ["\ud800", "a\udfffb", "x\udc00\ud800y", "\ud83d"];

let stepup: Stepup;
const events: DecisionEvent[] = [];
const failures: string[] = [];

beforeAll(async () => {
  stepup = await Stepup.load(inject("bundlePath"), { onDecision: (e) => events.push(e), onError: (error) => failures.push(error.code) });
});

describe("strings that are not Unicode text", () => {
  it("are input errors naming the field, from decide and parseInput, never an engine failure", () => {
    for (const field of FIELDS) {
      for (const text of UNENCODABLE) {
        const doc = withText(field, text);
        for (const take of [(d: unknown) => stepup.decide(d), (d: unknown) => parseInput(d)]) {
          const err = (() => {
            try {
              take(doc);
            } catch (e) {
              return e;
            }
            return undefined;
          })();
          expect(err, `${field} ${JSON.stringify(text)}`).toBeInstanceOf(InputInvalidError);
          expect((err as InputInvalidError).issues).toEqual([{ path: field, message: expect.stringMatching(/not Unicode text.*lone surrogate/) }]);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("leave well-formed text alone: surrogate pairs, accents, ideographs", () => {
    const decision = stepup.decide(withText("subject.id", "🦊 ünïcødé 漢字 a\ud83d\ude00b") as unknown);
    expect(decision.error).toBeUndefined();
    expect(events.at(-1)?.input.subject.id).toBe("🦊 ünïcødé 漢字 a😀b");
  });

  it("are input errors in NDJSON too, on one thread and on the pool, naming the line", async () => {
    const good = JSON.stringify(base());
    const bad = JSON.stringify(base()).replace('"alice@example.com"', '"alice\\ud800@example.com"');
    const ndjson = `${good}\n${bad}\n`;
    expect(() => stepup.decideLines(ndjson)).toThrow(InputInvalidError);
    expect(() => stepup.decideLines(ndjson)).toThrow(/\[1\]\.subject\.id: is not Unicode text/);
    const pool = await stepup.pool({ size: 2 });
    try {
      await expect(pool.decideLines(Buffer.from(ndjson))).rejects.toThrow(/\[1\]\.subject\.id: is not Unicode text/);
      await expect(pool.decideMany([JSON.parse(good), JSON.parse(bad)])).rejects.toThrow(/\[1\]\.subject\.id: is not Unicode text/);
    } finally {
      await pool.close();
    }
    expect(failures).toEqual([]);
  });

  describe("from the CLI", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "stepup-text-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("exit 2 with ERR_INPUT_INVALID naming the field", async () => {
      const file = join(dir, "input.json");
      await writeFile(file, JSON.stringify(base()).replace('"wiki"', '"wi\\udfffki"'));
      const result = await runCli(["eval", file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/ERR_INPUT_INVALID/);
      expect(result.stderr).toMatch(/target\.app: is not Unicode text/);
      expect(result.stdout).toBe("");
    });
  });
});

describe("a document read once", () => {
  /** A document whose fields are getters answering differently on every read, counting reads. */
  function shifting(): { doc: Record<string, unknown>; reads: Map<string, number> } {
    const reads = new Map<string, number>();
    const getter = <T>(name: string, values: T[]) => ({
      enumerable: true,
      get() {
        const n = reads.get(name) ?? 0;
        reads.set(name, n + 1);
        return values[n % values.length];
      },
    });
    const target = Object.defineProperties({}, { app: getter("target.app", ["wiki", "payroll"]), action: getter("target.action", ["read", "admin"]) });
    const session = Object.defineProperties({}, { acr: getter("session.acr", ["phr", null]), amr: getter("session.amr", [["hwk"], ["pwd"]]), auth_time: getter("session.auth_time", [NOW - 60, 0]) });
    const doc = Object.defineProperties(
      {},
      {
        now: getter("now", [NOW, NOW + 86_400 * 365]),
        subject: getter("subject", [{ id: "alice@example.com", kind: "human" }, { id: "mallory@example.com", kind: "human" }]),
        session: getter("session", [session, null]),
        target: getter("target", [target, { app: "intranet", action: "read" }]),
      },
    );
    return { doc, reads };
  }

  it("reads each getter once, and decides, renders and logs the same document", () => {
    const { doc, reads } = shifting();
    const before = events.length;
    const decision: Decision = stepup.decide(doc as unknown);
    for (const [name, n] of reads) expect(n, name).toBe(1);
    const logged = events.slice(before);
    expect(logged).toHaveLength(1);
    const input: Input = logged[0]!.input;
    expect(input.target).toEqual({ app: "wiki", action: "read", resource: null });
    expect(input.subject.id).toBe("alice@example.com");
    expect(input.session).toEqual({ acr: "phr", amr: ["hwk"], auth_time: NOW - 60 });
    expect(decision.target).toMatchObject({ app: "wiki", action: "read" });
    // The decision is the one the logged document gets.
    const { decision_id: _a, ...again } = stepup.decideInput(input);
    const { decision_id: _b, ...made } = decision;
    expect(made).toEqual(again);
  });

  it("takes a document's own enumerable fields, as a copy of it has them, nothing inherited or hidden", () => {
    const { session, ...rest } = base();
    const inherited = Object.assign(Object.create({ session }) as object, rest);
    const hidden = Object.defineProperty(base(), "device", { enumerable: false });
    const logged = (doc: unknown) => {
      const before = events.length;
      expect(stepup.decide(doc).error).toBeUndefined();
      return events.slice(before)[0]!.input;
    };
    // structuredClone copies own enumerable properties only: the document as data.
    for (const doc of [inherited, hidden]) expect(logged(doc)).toEqual(logged(structuredClone(doc)));
    expect(logged(inherited).session).toBeNull();
    expect(logged(hidden).device).toBeNull();
    // A class's accessor lives on its prototype: not a field of the document.
    class Request {
      now = NOW;
      subject = base().subject;
      get target() {
        return base().target;
      }
    }
    expect(() => stepup.decide(new Request() as unknown)).toThrow(/target: /);
  });

  it("reads a Proxy's fields once each", () => {
    const gets = new Map<string, number>();
    const proxied = <T extends object>(name: string, value: T): T =>
      new Proxy(value, {
        get(obj, key, receiver) {
          if (typeof key === "string") gets.set(`${name}.${key}`, (gets.get(`${name}.${key}`) ?? 0) + 1);
          const v = Reflect.get(obj, key, receiver);
          return typeof v === "object" && v !== null && typeof key === "string" ? proxied(`${name}.${key}`, v) : v;
        },
      });
    const decision = stepup.decide(proxied("input", base()) as unknown);
    expect(decision.error).toBeUndefined();
    for (const [name, n] of gets) expect(n, name).toBe(1);
    expect(gets.size).toBeGreaterThan(10);
  });
});
