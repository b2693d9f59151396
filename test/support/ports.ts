/** Loopback ports for tests: a free one to hand to a server that cannot pick its own, or a closed one. */
import { createServer } from "node:net";

/** A port that was free on 127.0.0.1 a moment ago (the kernel picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A port nothing listens on: connections to it are refused. */
export const closedPort = freePort;
