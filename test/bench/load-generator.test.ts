/**
 * The Go client's load mode, which drives the envoy benchmark: it must send open loop (each Check
 * at its scheduled time, whether or not earlier ones were answered), count every Check it sent,
 * and count and name the ones that failed. Checked against a gRPC server of the ext_authz service
 * that answers slowly, more slowly still or with an error, as each Check tells it.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationService } from "../../src/enforcement/envoy/protos.js";
import { goClient, goLoad } from "../support/envoy/go-client.js";

const DELAY_MS = 300;
let server: grpc.Server;
let address = "";

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(authorizationService(), {
    Check: (call: grpc.ServerUnaryCall<{ ok: boolean; request?: Record<string, any> }, unknown>, done: grpc.sendUnaryData<unknown>) => {
      const id = call.request.request?.attributes?.request?.http?.id;
      const answer = () => (id === "fail" ? done({ code: grpc.status.PERMISSION_DENIED, details: "told to fail" }) : done(null, { status: { code: 0 } }));
      setTimeout(answer, id === "slow" ? 3 * DELAY_MS : DELAY_MS);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  address = `127.0.0.1:${port}`;
  await goClient();
}, 120_000);

afterAll(() => server?.forceShutdown());

const check = (id: string) => ({ attributes: { request: { time: "2026-01-01T00:00:00Z", http: { id, method: "GET", path: "/" } } } });

describe("the Go load generator", () => {
  it("sends on schedule without waiting for answers, and counts every Check", async () => {
    const run = await goLoad(address, [check("a"), check("b")], { rate: 40, seconds: 1, connections: 2, timeoutMs: 5_000 });
    expect(run.sent).toBe(40);
    expect(run.latencies_us).toHaveLength(40);
    expect(run.failures).toBe(0);
    // Every answer took the server's delay, yet the run took about a second, not 40 delays.
    expect(Math.min(...run.latencies_us)).toBeGreaterThanOrEqual(DELAY_MS * 1_000);
    expect(run.elapsed_s).toBeLessThan((40 * DELAY_MS) / 1_000 / 2);
  });

  it("counts and names the Checks that fail", async () => {
    const run = await goLoad(address, [check("ok"), check("fail")], { rate: 20, seconds: 1, connections: 1, timeoutMs: 5_000 });
    expect(run.sent).toBe(20);
    expect(run.failures).toBe(10);
    expect(run.first_failure).toBe("PermissionDenied: told to fail");
  });

  it("counts a Check past its deadline as failed", async () => {
    const run = await goLoad(address, [check("ok"), check("slow")], { rate: 10, seconds: 0.5, connections: 1, timeoutMs: 2 * DELAY_MS });
    expect(run.sent).toBe(5);
    expect(run.failures).toBe(2);
    expect(run.first_failure).toMatch(/^DeadlineExceeded/);
  });

  it("refuses to start when a connection's first Check gets no answer", async () => {
    await expect(goLoad(address, [check("slow")], { rate: 10, seconds: 0.5, connections: 1, timeoutMs: DELAY_MS })).rejects.toThrow(/connection 0/);
  });
});
