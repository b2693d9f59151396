/**
 * A bundle server's folder laid out for report-only rollouts, the fleet-wide counterpart of
 * `Stepup.promote` and `rollback`: `active/<name>` and `candidate/<name>` are the two channels a
 * bundle client follows (`url` and `candidateUrl`, served by nginx, an object store or `stepup
 * bundle serve`), `previous/<name>` is kept for a rollback, and `rollout.ndjson` records every
 * switch (who, when, which revisions). A file is replaced by renaming a complete copy into place,
 * so the server never serves half a bundle; clients see a promotion as the candidate's revision
 * arriving on the active channel and a 404 on the candidate one.
 */
import { randomUUID } from "node:crypto";
import { appendFile, copyFile, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { RolloutRecordSchema, type RolloutRecord } from "../contracts/decision-log.js";
import { readBundle } from "../bundle/load.js";
import { RolloutInvalidError } from "../errors.js";

export type Channel = "active" | "candidate" | "previous";

/** The revisions each channel serves now. */
export type ChannelRevisions = Partial<Record<Channel, string>>;

export class ReleaseChannels {
  /** The record of every switch, one JSON line each. */
  readonly log: string;

  constructor(
    readonly dir: string,
    /** The bundle's file name in each channel folder. */
    readonly name = "stepup.tar.gz",
  ) {
    this.log = join(dir, "rollout.ndjson");
  }

  /** Where a channel's bundle is. */
  path(channel: Channel): string {
    return join(this.dir, channel, this.name);
  }

  /** The revision each channel serves. */
  async revisions(): Promise<ChannelRevisions> {
    const out: ChannelRevisions = {};
    for (const channel of ["active", "candidate", "previous"] as const) {
      const revision = await this.revision(channel);
      if (revision !== undefined) out[channel] = revision;
    }
    return out;
  }

  /**
   * Publishes a bundle on the candidate channel: clients following it decide with it in
   * report-only mode. The archive must be readable as a bundle (its signature is the clients' to
   * check). When nothing is active yet, it is published as the active bundle instead.
   */
  async publish(bundlePath: string, options: { by?: string } = {}): Promise<RolloutRecord> {
    const bytes = await readFile(bundlePath);
    const revision = (await readBundle(bytes, bundlePath)).revision;
    const active = await this.revision("active");
    if (active === undefined) {
      await this.place(bundlePath, "active");
      return this.record("promoted", { active: revision, by: options.by });
    }
    await this.place(bundlePath, "candidate");
    return this.record("candidate_set", { active, candidate: revision, by: options.by });
  }

  /** Makes the candidate the active bundle; the one it replaces is kept for `rollback`. */
  async promote(options: { by?: string } = {}): Promise<RolloutRecord> {
    const candidate = await this.revision("candidate");
    if (candidate === undefined) throw new RolloutInvalidError("promote", `no candidate is published in ${this.dir}`);
    const active = await this.revision("active");
    if (active !== undefined) await this.place(this.path("active"), "previous");
    await this.move("candidate", "active");
    return this.record("promoted", { active: candidate, previous: active, by: options.by });
  }

  /** Makes the previous bundle active again; the one it replaces goes back to the candidate channel. */
  async rollback(options: { by?: string } = {}): Promise<RolloutRecord> {
    const previous = await this.revision("previous");
    if (previous === undefined) throw new RolloutInvalidError("roll back", `no previous bundle is kept in ${this.dir}`);
    const active = await this.revision("active");
    if (active !== undefined) await this.place(this.path("active"), "candidate");
    await this.move("previous", "active");
    return this.record("rolled_back", { active: previous, previous: active, candidate: active, by: options.by });
  }

  /** Takes the candidate down: report-only mode ends on every client. */
  async withdraw(options: { by?: string } = {}): Promise<RolloutRecord> {
    if ((await this.revision("candidate")) === undefined) throw new RolloutInvalidError("withdraw", `no candidate is published in ${this.dir}`);
    await rm(this.path("candidate"), { force: true });
    return this.record("candidate_cleared", { active: (await this.revision("active")) ?? "", by: options.by });
  }

  /** The records of every switch, oldest first. */
  async history(): Promise<RolloutRecord[]> {
    const text = await readFile(this.log, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => RolloutRecordSchema.parse(JSON.parse(line)));
  }

  private async revision(channel: Channel): Promise<string | undefined> {
    const path = this.path(channel);
    if (!(await stat(path).catch(() => undefined))) return undefined;
    return (await readBundle(await readFile(path), path)).revision;
  }

  /** Copies a file into a channel: a complete copy beside it, then a rename over the old one. */
  private async place(from: string, channel: Channel): Promise<void> {
    const to = this.path(channel);
    await mkdir(dirname(to), { recursive: true });
    const partial = `${to}.${randomUUID()}.partial`;
    await copyFile(from, partial);
    await rename(partial, to);
  }

  private async move(from: Channel, to: Channel): Promise<void> {
    await mkdir(dirname(this.path(to)), { recursive: true });
    await rename(this.path(from), this.path(to));
  }

  private async record(
    action: RolloutRecord["action"],
    fields: { active: string; previous?: string; candidate?: string; by?: string },
  ): Promise<RolloutRecord> {
    const record: RolloutRecord = {
      level: "info",
      msg: "stepup rollout",
      action,
      timestamp: new Date().toISOString(),
      active: fields.active,
      ...(fields.previous !== undefined && { previous: fields.previous }),
      ...(fields.candidate !== undefined && { candidate: fields.candidate }),
      ...(fields.by !== undefined && { by: fields.by }),
    };
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.log, `${JSON.stringify(record)}\n`);
    return record;
  }
}
