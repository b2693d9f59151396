/** A thread of optimizer-pool.ts: optimizes the modules it is sent with the bundle builder's own optimizeWasm. */
import { parentPort } from "node:worker_threads";
import { optimizeWasm } from "../../src/wasm/rewrite/optimize.js";

parentPort!.on("message", async ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
  try {
    const optimized = await optimizeWasm(bytes, `module ${id}`);
    parentPort!.postMessage({ id, bytes: optimized }, [optimized.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
