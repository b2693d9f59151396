/**
 * One request to a bundle server, in OPA's bundle protocol: `If-None-Match` with the current
 * ETag (304 = unchanged), `Prefer: modes=snapshot` and, once the server has shown that it
 * supports long polling (Content-Type `application/vnd.openpolicyagent.bundles`),
 * `wait=<seconds>`; a bearer token when configured. The body is bounded while it streams in, and
 * the whole request — connection, headers and body — by one deadline: a server that answers a
 * byte at a time cannot hold the client past it.
 */
import type { AxiosInstance } from "axios";
import { BundleDownloadError, BundleTooLargeError } from "../errors.js";
import { axios } from "../lazy.js";

/** The content type by which a bundle server says it supports long polling. */
export const LONG_POLL_CONTENT_TYPE = "application/vnd.openpolicyagent.bundles";

export interface FetchRequest {
  readonly url: string;
  /** The ETag of the bundle in use; the server answers 304 when it is still current. */
  readonly etag?: string;
  /** Long polling: how long the server may hold the request before answering 304. */
  readonly waitSeconds?: number;
  /** Sent as `Authorization: Bearer …`; never logged. */
  readonly token?: string;
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** The most the whole request may take — connect, headers, body — in milliseconds (added to the long-polling wait). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type FetchResult =
  | { readonly modified: true; readonly bytes: Uint8Array; readonly etag?: string; readonly longPoll: boolean }
  | { readonly modified: false; readonly longPoll?: true };

/** Downloads the bundle unless it is unchanged. Throws `BundleDownloadError` or `BundleTooLargeError`. */
export async function fetchBundle(request: FetchRequest, http: AxiosInstance = axios()): Promise<FetchResult> {
  const where = redactUrl(request.url);
  const prefer = ["modes=snapshot"];
  if (request.waitSeconds !== undefined) prefer.push(`wait=${request.waitSeconds}`);
  const headers: Record<string, string> = { Prefer: prefer.join(";"), Accept: "application/gzip, */*" };
  if (request.etag) headers["If-None-Match"] = request.etag;
  if (request.token) headers.Authorization = `Bearer ${request.token}`;
  // axios's own timeout only fires when the connection goes quiet; this one ends the request.
  const totalMs = request.timeoutMs + (request.waitSeconds ?? 0) * 1000;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), totalMs);
  const cancel = () => deadline.abort();
  request.signal?.addEventListener("abort", cancel, { once: true });
  if (request.signal?.aborted) deadline.abort();
  let response;
  try {
    response = await http.get<ArrayBuffer>(request.url, {
      headers,
      responseType: "arraybuffer",
      maxContentLength: request.maxBytes,
      signal: deadline.signal,
      validateStatus: () => true,
    });
  } catch (err) {
    if (deadline.signal.aborted && !request.signal?.aborted) {
      throw new BundleDownloadError(where, `timed out: no whole answer within ${totalMs} ms`, undefined, { cause: err });
    }
    throw downloadFailure(where, err, request.maxBytes);
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", cancel);
  }
  const longPoll = response.headers["content-type"] === LONG_POLL_CONTENT_TYPE;
  // A 304 usually carries no Content-Type; when it does (stepup's server, OPA's test server), it
  // shows long polling too. Without it the caller keeps what it knew.
  if (response.status === 304) return longPoll ? { modified: false, longPoll: true } : { modified: false };
  if (response.status !== 200) {
    throw new BundleDownloadError(where, `the server answered ${response.status}`, response.status);
  }
  const etag = typeof response.headers.etag === "string" ? response.headers.etag : undefined;
  return { modified: true, bytes: new Uint8Array(response.data), etag, longPoll };
}

function downloadFailure(where: string, err: unknown, maxBytes: number): Error {
  if (axios().isAxiosError(err)) {
    if (/maxContentLength/.test(err.message)) {
      return new BundleTooLargeError(where, `the download exceeds ${maxBytes} bytes`, { cause: err });
    }
    const reason = err.code === "ECONNABORTED" || err.code === "ETIMEDOUT" ? "timed out" : err.code ?? err.message;
    return new BundleDownloadError(where, reason, undefined, { cause: err });
  }
  return new BundleDownloadError(where, (err as Error).message ?? String(err), undefined, { cause: err });
}

/** The URL without credentials, query or fragment, for messages and logs (a query may hold a signed token). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}
