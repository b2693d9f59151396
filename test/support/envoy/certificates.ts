/**
 * X.509 client certificates for mTLS peers, with exact validity periods and a URI SAN (a SPIFFE
 * ID) or a DNS name, issued by a throwaway CA with the openssl CLI (`openssl ca` sets start and
 * end dates exactly). Envoy forwards such a certificate URL-encoded in CheckRequests.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CertificateAuthority {
  /** A PEM certificate for `principal`, valid from `notBefore` to `notAfter` (Unix seconds). */
  issue(principal: string, notBefore: number, notAfter: number): Promise<string>;
  close(): Promise<void>;
}

export async function newCertificateAuthority(): Promise<CertificateAuthority> {
  const dir = await mkdtemp(join(tmpdir(), "stepup-ca-"));
  const config = join(dir, "ca.cnf");
  await writeFile(join(dir, "index.txt"), "");
  await writeFile(join(dir, "serial"), "1000\n");
  await writeFile(
    config,
    `[ca]
default_ca = test
[test]
dir = ${dir}
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
`,
  );
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.pem"), "-subj", "/CN=stepup test CA", "-days", "36500"]);
  let n = 0;
  // `openssl ca` rewrites its serial and index files: one issuance at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const issue = async (principal: string, notBefore: number, notAfter: number): Promise<string> => {
      const name = `peer-${n++}`;
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      const out = join(dir, `${name}.pem`);
      const san = principal.startsWith("spiffe://") ? `URI:${principal}` : `DNS:${principal}`;
      await writeFile(ext, `subjectAltName = ${san}\nextendedKeyUsage = clientAuth\n`);
      await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, `${name}.key`), "-out", csr, "-subj", `/CN=${name}`]);
      await openssl(["ca", "-batch", "-config", config, "-in", csr, "-out", out, "-notext", "-extfile", ext, "-startdate", asn1Time(notBefore), "-enddate", asn1Time(notAfter)]);
      return readFile(out, "utf8");
  };
  return {
    issue(principal, notBefore, notAfter) {
      const next = queue.then(() => issue(principal, notBefore, notAfter));
      queue = next.catch(() => undefined);
      return next;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed (is the openssl CLI installed? apt-get install -y openssl): ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

/** YYYYMMDDHHMMSSZ, the generalized time `openssl ca` takes. */
function asn1Time(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}
