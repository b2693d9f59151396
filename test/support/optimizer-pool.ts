/**
 * Optimizes many wasm modules on every core, for the conformance cases (binaryen takes about a
 * second per module, and there are hundreds). The threads run TypeScript through tsx's loader
 * (`typescriptWorker`), as the decision pool's threads do under the tests. Results are kept in
 * .tools/cache (git-ignored), keyed by the module's bytes, the optimizer's name and the source of
 * the bundle builder's rewrites (so that a change to them is tested, not a cached module), so a
 * developer's second run skips the work; CI starts from a clean clone and optimizes every module.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { optimizerName } from "../../src/wasm/rewrite/optimize.js";
import { typescriptWorker } from "../../src/engine/batch/threads.js";

const CACHE = join(".tools", "cache", "optimized-wasm");
/** The bundle builder's code that rewrites modules: part of every cache key. */
const REWRITES_DIR = join("src", "wasm", "rewrite");

export async function optimizeAll(modules: readonly Uint8Array[]): Promise<Uint8Array[]> {
  await mkdir(CACHE, { recursive: true });
  const optimizer = createHash("sha256").update(optimizerName());
  for (const file of (await readdir(REWRITES_DIR)).sort()) optimizer.update(await readFile(join(REWRITES_DIR, file)));
  const keys = modules.map((bytes) => optimizer.copy().update(bytes).digest("hex"));
  const cached = await Promise.all(keys.map((key) => readFile(join(CACHE, `${key}.wasm`)).catch(() => undefined)));
  const missing = modules.flatMap((_, i) => (cached[i] ? [] : [i]));
  const fresh = await optimizeOnThreads(missing.map((i) => modules[i]!));
  await Promise.all(
    missing.map(async (i, n) => {
      // Written aside and renamed: a run cut short leaves no half-written module behind.
      const path = join(CACHE, `${keys[i]}.wasm`);
      await writeFile(`${path}.${process.pid}`, fresh[n]!);
      await rename(`${path}.${process.pid}`, path);
    }),
  );
  return modules.map((_, i) => cached[i] ?? fresh[missing.indexOf(i)]!);
}

type Reply = { id: number; bytes: Uint8Array } | { id: number; error: string };

async function optimizeOnThreads(modules: readonly Uint8Array[]): Promise<Uint8Array[]> {
  if (modules.length === 0) return [];
  const boot = typescriptWorker(new URL("./optimizer-worker.ts", import.meta.url));
  const results: Uint8Array[] = new Array(modules.length);
  let next = 0;
  const threads = Array.from({ length: Math.min(availableParallelism(), modules.length) }, () => new Worker(boot));
  try {
    await Promise.all(
      threads.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= modules.length) return resolve();
              const id = next++;
              worker.postMessage({ id, bytes: modules[id] });
            };
            worker.on("message", (reply: Reply) => {
              if ("error" in reply) return reject(new Error(`optimizing module ${reply.id}: ${reply.error}`));
              results[reply.id] = reply.bytes;
              send();
            });
            worker.on("error", reject);
            send();
          }),
      ),
    );
    return results;
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
  }
}
