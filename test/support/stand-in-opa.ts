/**
 * A stand-in for an OPA sidecar: a plain HTTP server on 127.0.0.1 whose answers a test scripts,
 * for the remote engine's behaviour on answers a real OPA does not give on demand (a 503, a body
 * that is not JSON, no answer at all). It counts requests and TCP connections. Everything about
 * real decisions is tested against the real sidecar (test/sidecar/).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface StandIn {
  readonly url: string;
  /** Requests received, by "METHOD path". */
  readonly requests: string[];
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function startStandIn(handler: Handler): Promise<StandIn> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      standIn.requests.push(`${req.method} ${req.url}`);
      handler(req, Buffer.concat(chunks).toString("utf8"), res);
    });
  });
  server.on("connection", (socket) => {
    standIn.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("stand-in has no address");
  const standIn: StandIn = {
    url: `http://127.0.0.1:${address.port}`,
    requests: [],
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return standIn;
}
