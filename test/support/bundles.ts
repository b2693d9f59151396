/**
 * Helpers for the bundle suites: key pairs as PEM files, the pinned OPA run as a verifier
 * (`opa run --verification-key … -b`) and as a signer (`opa build --signing-key`), tampering with
 * a bundle's files, new revisions of the test bundle without recompiling its wasm, and a policy with
 * one weight changed.
 */
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readArchive, writeArchive, type BundleFiles } from "../../src/bundle/archive.js";
import { buildBundle } from "../../src/bundle/build.js";
import { opaBinary } from "../../src/bundle/opa-cli.js";
import { signFiles } from "../../src/bundle/sign.js";
import type { SigningAlgorithm } from "../../src/contracts/signing.js";

export interface KeyPair {
  /** The key id signatures made with it carry (the `kid`). */
  readonly id: string;
  readonly algorithm: SigningAlgorithm;
  readonly privatePem: string;
  readonly publicPem: string;
  readonly privatePath: string;
  readonly publicPath: string;
}

/** A fresh key pair for the algorithm, written as PEM files into `dir`. */
export async function keyPair(dir: string, algorithm: "RS256" | "ES256", name: string): Promise<KeyPair> {
  const pair =
    algorithm === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const privatePem = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const publicPem = pair.publicKey.export({ type: "spki", format: "pem" }) as string;
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  await writeFile(privatePath, privatePem, { mode: 0o600 });
  await writeFile(publicPath, publicPem);
  return { id: name, algorithm, privatePem, publicPem, privatePath, publicPath };
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(binary: string, args: string[], options: { cwd?: string; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(binary, args, { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(options.stdin ?? "");
  });
}

export interface OpaVerify {
  readonly key: KeyPair;
  readonly scope?: string;
  /** `--exclude-files-verify` patterns. */
  readonly exclude?: string[];
}

/**
 * Loads the bundle in `opa run` with signature verification, and asks it for the bundle's
 * revision: accepted when OPA exits 0 and prints the revision.
 */
export async function opaRunVerify(bundlePath: string, verify: OpaVerify, scratch: string): Promise<Run> {
  const args = ["run", "--skip-version-check", "--history", join(scratch, "opa-history"), "--format", "json", "--bundle", bundlePath];
  args.push("--verification-key", verify.key.publicPath, "--signing-alg", verify.key.algorithm);
  if (verify.scope !== undefined) args.push("--scope", verify.scope);
  for (const pattern of verify.exclude ?? []) args.push("--exclude-files-verify", pattern);
  return run(opaBinary(), args, { stdin: "data.system.bundles[_].manifest.revision\n" });
}

/** Signs the bundle's files with `opa build --signing-key`, from an unpacked copy; returns the signed archive's path. */
export async function opaSign(files: BundleFiles, key: KeyPair, scratch: string, scope?: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, "opa-sign-"));
  const unpacked = join(dir, "bundle");
  for (const [name, bytes] of files) {
    if (name === ".signatures.json") continue;
    await mkdir(dirname(join(unpacked, name)), { recursive: true });
    await writeFile(join(unpacked, name), bytes);
  }
  const out = join(dir, "signed.tar.gz");
  const args = ["build", "--bundle", ".", "--output", out, "--signing-key", key.privatePath, "--signing-alg", key.algorithm];
  if (scope !== undefined) {
    const claims = join(dir, "claims.json");
    await writeFile(claims, JSON.stringify({ scope }));
    args.push("--claims-file", claims);
  }
  const result = await run(opaBinary(), args, { cwd: unpacked });
  if (result.code !== 0) throw new Error(`opa build --signing-key failed: ${result.stderr}`);
  return out;
}

/** Signs with stepup's signer (the SDK function behind `stepup bundle sign`), with the key's id as `kid`. */
export async function stepupSign(files: BundleFiles, key: KeyPair, scope?: string): Promise<BundleFiles> {
  return signFiles(files, { key: key.privatePem, algorithm: key.algorithm, keyId: key.id, scope });
}

export async function readFiles(path: string): Promise<BundleFiles> {
  return readArchive(await readFile(path), path);
}

export async function writeFiles(path: string, files: BundleFiles): Promise<string> {
  await writeFile(path, writeArchive(files));
  return path;
}

/** The same bundle with another revision in its manifest (the wasm is unchanged), unsigned. */
export function withRevision(files: BundleFiles, revision: string): BundleFiles {
  const manifest = JSON.parse(Buffer.from(files.get(".manifest") as Uint8Array).toString("utf8"));
  const out: BundleFiles = new Map(files);
  out.delete(".signatures.json");
  out.set(".manifest", Buffer.from(JSON.stringify({ ...manifest, revision })));
  return out;
}

/** Ways a signed bundle can be altered after signing, and the words OPA uses to refuse each. */
export const TAMPERINGS: readonly { name: string; opa: RegExp; apply: (files: BundleFiles) => BundleFiles }[] = [
  {
    name: "a changed policy file",
    opa: /digest mismatch/,
    apply: (files) => edit(files, "stepup/decision.rego", (text) => `${text}\n# changed after signing\n`),
  },
  {
    name: "changed data",
    opa: /digest mismatch/,
    apply: (files) =>
      edit(files, "data.json", (text) => {
        const data = JSON.parse(text);
        data.stepup.tampered = { allow_everything: true };
        return JSON.stringify(data);
      }),
  },
  {
    name: "an added file",
    opa: /not included in bundle signature/,
    apply: (files) => new Map([...files, ["stepup/extra.rego", Buffer.from("package stepup.extra\n\nallow := true\n")]]),
  },
  {
    name: "a removed file",
    opa: /specified in bundle signatures but not found/,
    apply: (files) => new Map([...files].filter(([name]) => name !== "stepup/risk/risk.rego")),
  },
  {
    name: "a missing signature",
    opa: /missing \.signatures\.json/,
    apply: (files) => new Map([...files].filter(([name]) => name !== ".signatures.json")),
  },
];

function edit(files: BundleFiles, name: string, change: (text: string) => string): BundleFiles {
  const bytes = files.get(name);
  if (!bytes) throw new Error(`no ${name} in the bundle`);
  const changed = change(Buffer.from(bytes).toString("utf8"));
  if (changed === Buffer.from(bytes).toString("utf8")) throw new Error(`tampering left ${name} unchanged`);
  return new Map([...files, [name, Buffer.from(changed)]]);
}

/** The policy with its first weight raised by 40, built into `dir` as a bundle of `revision`. */
export async function weightRaisedBundle(dir: string, revision: string): Promise<{ path: string; weight: string }> {
  const rego = join(dir, `rego-${revision}`);
  await cp("rego", rego, { recursive: true });
  const dataPath = join(rego, "stepup", "config", "data.json");
  const data = JSON.parse(await readFile(dataPath, "utf8")) as { weights: Record<string, unknown> };
  // The lightest signal: raised, it tips decisions over thresholds without hitting its group's cap.
  const [weight, value] = (Object.entries(data.weights) as [string, number][]).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]!;
  data.weights[weight] = value + 40;
  await writeFile(dataPath, JSON.stringify(data, null, 2));
  const path = join(dir, `${revision}.tar.gz`);
  await buildBundle({ regoDir: rego, out: path, revision });
  return { path, weight };
}

/**
 * The policy with a rule that two definitions give different values, which `decision` reads: OPA
 * raises its "var assignment conflict" on every evaluation, and the wasm aborts. A real bundle
 * that loads and compiles but cannot decide anything, built into `dir` as `revision`.
 */
export async function abortingBundle(dir: string, revision: string): Promise<string> {
  const rego = join(dir, `rego-${revision}`);
  await cp("rego", rego, { recursive: true });
  const decision = join(rego, "stepup", "decision.rego");
  const conflict = [
    "",
    "_conflict := 1 if input.now > 0",
    "",
    "_conflict := 2 if input.now > 0",
    "",
    'reasons contains "engine.failure" if _conflict == 3',
    "",
  ].join("\n");
  await writeFile(decision, (await readFile(decision, "utf8")) + conflict);
  const path = join(dir, `${revision}.tar.gz`);
  await buildBundle({ regoDir: rego, out: path, revision });
  return path;
}
