/**
 * The bundle client's deadlines are total: connection, headers and body together. A slow-drip
 * server — a byte a second, in the headers or in the body — once stalled updates for a minute
 * with a two-second timeout, and a start with a saved bundle on disk for 47 s with a three-second
 * limit. Here the same servers (raw sockets on loopback) meet the request timeout and the start
 * limit; each bound is checked with a margin far below what the drip would take.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { writeArchive, type BundleFiles } from "../../src/bundle/archive.js";
import { BundleClient } from "../../src/fleet/client.js";
import type { BundleEvent } from "../../src/fleet/events.js";
import { fetchBundle } from "../../src/fleet/fetch.js";
import { BundleDownloadError } from "../../src/errors.js";
import { keyPair, readFiles, stepupSign, withRevision, type KeyPair } from "../support/bundles.js";

/** What a drip would take at the least: far beyond every deadline below. */
const DRIP_SECONDS = 60;
/** Scheduling slack on a busy two-core machine; still a small fraction of the drip. */
const MARGIN_MS = 3_000;

type Mode = "normal" | "drip-headers" | "drip-body" | "silent";

interface TestServer {
  readonly url: string;
  mode: Mode;
  close(): Promise<void>;
}

/** An HTTP/1.1 bundle server on a raw socket, so that it can answer as slowly as it likes. */
async function server(bundle: Uint8Array): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { mode: "normal" as Mode };
  const net: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.once("data", () => {
      const head = `HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: ${bundle.byteLength}\r\nETag: "e1"\r\nConnection: close\r\n\r\n`;
      const whole = Buffer.concat([Buffer.from(head), Buffer.from(bundle)]);
      if (state.mode === "normal") return socket.end(whole);
      if (state.mode === "silent") return;
      // A byte a second from where the drip starts: inside the headers, or once the body began.
      let at = state.mode === "drip-headers" ? 0 : head.length + 1;
      socket.write(whole.subarray(0, at));
      const timer = setInterval(() => {
        if (socket.destroyed || at >= whole.length) return clearInterval(timer);
        socket.write(whole.subarray(at, ++at));
      }, 1_000);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => net.listen(0, "127.0.0.1", resolve));
  const port = (net.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/stepup.tar.gz`,
    get mode() {
      return state.mode;
    },
    set mode(m: Mode) {
      state.mode = m;
    },
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => net.close(() => resolve()));
    },
  };
}

let scratch: string;
let key: KeyPair;
let bundle: Uint8Array;
let srv: TestServer;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "stepup-deadlines-"));
  key = await keyPair(scratch, "ES256", "fleet");
  const base: BundleFiles = await readFiles(inject("bundlePath"));
  bundle = writeArchive(await stepupSign(withRevision(base, "r1"), key));
  srv = await server(bundle);
  expect(bundle.byteLength).toBeGreaterThan(DRIP_SECONDS);
});

afterAll(async () => {
  await srv?.close();
  await rm(scratch, { recursive: true, force: true });
});

const verification = () => ({ keys: { fleet: { key: key.publicPem, algorithm: "ES256" as const } } });

describe("a bundle request", () => {
  for (const mode of ["drip-headers", "drip-body", "silent"] as const) {
    it(`ends at its deadline when the server answers ${mode === "silent" ? "nothing" : "a byte a second"} (${mode})`, async () => {
      srv.mode = mode;
      const began = Date.now();
      const err = await fetchBundle({ url: srv.url, maxBytes: 1 << 25, timeoutMs: 1_000 }).catch((e: unknown) => e);
      const took = Date.now() - began;
      expect(err).toBeInstanceOf(BundleDownloadError);
      expect((err as Error).message).toMatch(/timed out: no whole answer within 1000 ms/);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(1_000 + MARGIN_MS);
    });
  }
});

describe("the bundle client against a slow-drip server", () => {
  it("keeps polling on time: each request fails at its deadline, reported, and the active revision stays", async () => {
    srv.mode = "normal";
    const events: { at: number; event: BundleEvent }[] = [];
    const client = await BundleClient.start(
      { url: srv.url, verification: verification(), polling: { minDelayMs: 100, maxDelayMs: 200, retryBaseMs: 100 }, requestTimeoutMs: 2_000, startTimeoutMs: 5_000 },
      { onEvent: (event) => events.push({ at: Date.now(), event }), onError: () => {} },
    );
    try {
      srv.mode = "drip-body";
      const dripping = Date.now();
      await waitUntil(() => events.filter((e) => e.event.type === "failed").length >= 2, 2 * (2_000 + MARGIN_MS));
      const failed = events.filter((e) => e.event.type === "failed");
      expect(failed[0]!.event).toMatchObject({ type: "failed", stage: "download", revision: "r1" });
      expect(failed[0]!.at - dripping).toBeLessThan(2_000 + MARGIN_MS);
      expect(client.revision).toBe("r1");
    } finally {
      await client.stop();
    }
  });

  it("starts from the saved bundle within its start limit while the server drips", async () => {
    const persistDir = join(scratch, "persist");
    srv.mode = "normal";
    await (await BundleClient.start({ url: srv.url, verification: verification(), persistDir }, { onEvent: () => {} })).stop();
    for (const mode of ["drip-headers", "drip-body", "silent"] as const) {
      srv.mode = mode;
      const events: BundleEvent[] = [];
      const began = Date.now();
      const client = await BundleClient.start(
        { url: srv.url, verification: verification(), persistDir, startTimeoutMs: 2_000, requestTimeoutMs: 60_000 },
        { onEvent: (e) => events.push(e) },
      );
      const took = Date.now() - began;
      await client.stop();
      expect(events.map((e) => e.type), mode).toEqual(["failed", "activated"]);
      expect(events[1], mode).toMatchObject({ revision: "r1", source: "disk" });
      expect(took, mode).toBeLessThan(2_000 + MARGIN_MS);
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
