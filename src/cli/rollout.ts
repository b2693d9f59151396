/**
 * The `stepup rollout …` commands: a report-only rollout across a fleet, on a bundle server's
 * channel folder (src/fleet/channels.ts). `publish` puts a candidate on the candidate channel,
 * `promote` makes it active in one step, `rollback` undoes the last promotion, `withdraw` ends
 * report-only mode, `status` shows the channels and the record of switches.
 */
import { userInfo } from "node:os";
import type { Command } from "commander";
import type { RolloutRecord } from "../contracts/decision-log.js";
import { ReleaseChannels } from "../fleet/channels.js";

interface Flags {
  dir: string;
  name: string;
  by?: string;
}

export function registerRolloutCommands(program: Command): void {
  const rollout = program
    .command("rollout")
    .description("report-only rollouts on a bundle server's channel folder (active/, candidate/, previous/, rollout.ndjson)");
  const common = (command: Command) =>
    command
      .requiredOption("--dir <folder>", "the channel folder the bundle server serves")
      .option("--name <file>", "the bundle's file name in each channel", "stepup.tar.gz")
      .option("--by <who>", "who switches, for the record (default: the user running the command)");

  common(rollout.command("publish").description("publish a bundle on the candidate channel (report-only; active when nothing is)").argument("<bundle>", "bundle (.tar.gz)")).action(
    async (bundle: string, opts: Flags) => print(await channels(opts).publish(bundle, { by: by(opts) })),
  );
  common(rollout.command("promote").description("make the candidate the active bundle, keeping the replaced one for rollback")).action(async (opts: Flags) =>
    print(await channels(opts).promote({ by: by(opts) })),
  );
  common(rollout.command("rollback").description("make the previous bundle active again; the replaced one goes back to the candidate channel")).action(
    async (opts: Flags) => print(await channels(opts).rollback({ by: by(opts) })),
  );
  common(rollout.command("withdraw").description("take the candidate down: report-only mode ends")).action(async (opts: Flags) =>
    print(await channels(opts).withdraw({ by: by(opts) })),
  );
  common(rollout.command("status").description("the revision on each channel and the last switches")).action(async (opts: Flags) => {
    const releases = channels(opts);
    const revisions = await releases.revisions();
    const lines = (["active", "candidate", "previous"] as const).map((c) => `${c.padEnd(10)} ${revisions[c] ?? "(none)"}`);
    const history = (await releases.history()).slice(-10).map(describe);
    process.stdout.write(`${[...lines, ...(history.length ? ["", "last switches:", ...history.map((h) => `  ${h}`)] : [])].join("\n")}\n`);
  });
}

function channels(opts: Flags): ReleaseChannels {
  return new ReleaseChannels(opts.dir, opts.name);
}

function by(opts: Flags): string | undefined {
  if (opts.by) return opts.by;
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

function describe(r: RolloutRecord): string {
  const what =
    r.action === "promoted"
      ? `promoted ${r.active}${r.previous ? ` over ${r.previous}` : ""}`
      : r.action === "rolled_back"
        ? `rolled back to ${r.active}${r.previous ? ` from ${r.previous}` : ""}`
        : r.action === "candidate_set"
          ? `published candidate ${r.candidate} beside ${r.active}`
          : r.action === "candidate_cleared"
            ? "withdrew the candidate"
            : r.action;
  return `${r.timestamp} ${what}${r.by ? ` (by ${r.by})` : ""}`;
}

function print(record: RolloutRecord): void {
  process.stdout.write(`${describe(record)}\n`);
}
