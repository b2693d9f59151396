/** Runs `stepup bundle serve` (the CLI built for the test run) and stops it with SIGTERM. */
import { spawn } from "node:child_process";
import { inject } from "vitest";

export interface CliServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function runCliServer(args: string[]): Promise<CliServer> {
  const child = spawn(process.execPath, [inject("cliPath"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stepup bundle serve did not start: ${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/\S+?)\/? /.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    exited.then((code) => reject(new Error(`stepup bundle serve exited with ${code}: ${output}`)));
  }).catch(async (err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      const code = await exited;
      if (code !== 0) throw new Error(`stepup bundle serve exited with ${code}: ${output}`);
    },
  };
}
