/**
 * A bundle server for development (`stepup bundle serve`): serves every `*.tar.gz` under a folder
 * by its relative path, with a strong ETag (the SHA-256 of its bytes), 304 for a matching
 * `If-None-Match`, and long polling as OPA's clients ask for it: a request carrying
 * `Prefer: wait=<s>` for the current ETag is held until the file changes (200) or the wait ends
 * (304). Answers with a bundle carry OPA's content type, which tells a client long polling is on
 * offer. Files are re-read when their size, mtime or inode change; publish by renaming into place.
 * Only files inside the folder are served: a path is resolved through any symbolic links first,
 * and one that ends outside the folder is not found. For production, see docs/bundles.md (nginx,
 * an object store, a CDN).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { constants } from "node:fs";
import { open, realpath } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve, sep } from "node:path";
import { normalisePath } from "../bundle/archive.js";
import { ListenFailedError } from "../errors.js";
import { LONG_POLL_CONTENT_TYPE } from "./fetch.js";
import { nodeHttp } from "../lazy.js";

export interface ServeOptions {
  /** The folder whose `*.tar.gz` files are served. */
  readonly dir: string;
  /** 127.0.0.1 unless told otherwise. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Require `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** The longest a long-polling request is held, in seconds, whatever it asks for (60 by default). */
  readonly maxWaitSeconds?: number;
  /** How often held requests look for a change, in milliseconds (250 by default). */
  readonly watchIntervalMs?: number;
}

export interface BundleServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Current {
  readonly key: string;
  readonly etag: string;
  readonly bytes: Buffer;
}

/**
 * Starts the server; resolves once it listens.
 * @example
 * const server = await serveBundles({ dir: "bundles", port: 8181 });
 * // GET http://127.0.0.1:8181/stepup.tar.gz
 */
export async function serveBundles(options: ServeOptions): Promise<BundleServer> {
  const root = resolve(options.dir);
  const maxWait = options.maxWaitSeconds ?? 60;
  const interval = options.watchIntervalMs ?? 250;
  const cache = new Map<string, Current>();
  const held = new Set<() => void>();

  /**
   * The file's current bytes and ETag, re-read only when its identity on disk changed; undefined
   * when it is not a regular file inside the folder, symbolic links resolved.
   */
  async function current(path: string): Promise<Current | undefined> {
    const [real, folder] = await Promise.all([realpath(path).catch(() => undefined), realpath(root).catch(() => undefined)]);
    if (!real || !folder || !real.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`)) return undefined;
    // The path resolved: a link put in its place since is not followed.
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
    if (!handle) return undefined;
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
      const cached = cache.get(path);
      if (cached?.key === key) return cached;
      const bytes = await handle.readFile();
      const entry = { key, bytes, etag: `"${createHash("sha256").update(bytes).digest("hex").slice(0, 32)}"` };
      cache.set(path, entry);
      return entry;
    } finally {
      await handle.close();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") return end(res, 405, { Allow: "GET, HEAD" });
    if (options.token && !bearerMatches(req.headers.authorization, options.token)) {
      return end(res, 401, { "WWW-Authenticate": "Bearer" });
    }
    let name: string | undefined;
    try {
      name = normalisePath(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    } catch {
      return end(res, 400);
    }
    if (!name || !name.endsWith(".tar.gz")) return end(res, 404);
    const path = join(root, name);
    let file = await current(path);
    if (!file) return end(res, 404);
    const wait = Math.min(maxWait, preferWait([req.headers.prefer ?? ""].flat().join(";")));
    if (wait > 0 && matches(req.headers["if-none-match"], file.etag)) {
      file = await changed(path, file.etag, wait * 1000, res);
      if (!file) return end(res, 404);
    }
    // The content type on a 304 too, so that a client starting from a saved bundle learns that
    // long polling is on offer without waiting for the next change.
    if (matches(req.headers["if-none-match"], file.etag)) return end(res, 304, { ETag: file.etag, "Content-Type": LONG_POLL_CONTENT_TYPE });
    res.writeHead(200, { "Content-Type": LONG_POLL_CONTENT_TYPE, "Content-Length": file.bytes.byteLength, ETag: file.etag });
    res.end(req.method === "HEAD" ? undefined : file.bytes);
  }

  /** Holds until the file's ETag is no longer `etag`, the wait ends, the client leaves or the server closes. */
  function changed(path: string, etag: string, ms: number, res: ServerResponse): Promise<Current | undefined> {
    return new Promise((done) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        clearTimeout(deadline);
        held.delete(finish);
        current(path).then(done, () => done(undefined));
      };
      const timer = setInterval(() => {
        current(path).then((file) => {
          if (!file || file.etag !== etag) finish();
        }, finish);
      }, interval);
      const deadline = setTimeout(finish, ms);
      // The response's "close" before it is sent means the client went away.
      res.once("close", finish);
      held.add(finish);
    });
  }

  const server: Server = nodeHttp().createServer((req, res) => {
    handle(req, res).catch(() => end(res, 500));
  });
  await new Promise<void>((ok, fail) => {
    const where = `${options.host ?? "127.0.0.1"}:${options.port ?? 0}`;
    server.once("error", (err: NodeJS.ErrnoException) => fail(new ListenFailedError(where, listenFailure(err), { cause: err })));
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => ok());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: async () => {
      for (const release of [...held]) release();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function listenFailure(err: NodeJS.ErrnoException): string {
  if (err.code === "EADDRINUSE") return "the port is in use (EADDRINUSE)";
  if (err.code === "EADDRNOTAVAIL") return "the address is not one of this machine's (EADDRNOTAVAIL)";
  if (err.code === "EACCES") return "not permitted (EACCES)";
  return err.message;
}

function end(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, headers);
  res.end();
}

/** `Prefer: modes=snapshot;wait=30` → 30; absent or malformed → 0. */
export function preferWait(header: string | undefined): number {
  const match = /(?:^|[;,\s])wait=(\d{1,6})(?:$|[;,\s])/.exec(header ?? "");
  return match ? Number(match[1]) : 0;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim().replace(/^W\//, "");
    return t === "*" || t === etag;
  });
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
