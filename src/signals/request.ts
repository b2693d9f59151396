/**
 * A request as the collectors see it, whatever the framework: the socket peer, the headers (names
 * in lower case, as Node gives them), the method, the path without its query, and the route
 * pattern the framework matched, when it has one. A trusted front (Envoy) may also say when the
 * request arrived and which mTLS peer sent it.
 */
export interface RequestFacts {
  readonly peer: string | null | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly method: string;
  readonly path: string;
  readonly route: string | null;
  /**
   * Other readings of the path that a router after stepup may route on (request-path.ts); the
   * target is decided only when each maps to the same one. None inside Express or Fastify, which
   * route on `path` itself.
   */
  readonly readings?: readonly string[];
  /** When the request arrived, in Unix seconds, as a trusted front stamped it; the collectors' clock otherwise. */
  readonly time?: number;
  /** The mTLS peer a trusted front verified: its principal (URI SAN, DNS SAN or subject) and certificate (PEM). */
  readonly peerIdentity?: PeerIdentity | null;
}

/** The verified mTLS peer of a request. */
export interface PeerIdentity {
  readonly principal: string | null;
  readonly certificate: string | null;
}

/** The path of a request target without its query string or fragment. */
export function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const cut = url.search(/[?#]/);
  return cut >= 0 ? url.slice(0, cut) : url;
}

/** One header's value; repeated values are joined as Node joins them, so they parse as malformed. */
export function headerValue(headers: RequestFacts["headers"], name: string): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return typeof value === "string" ? value : value.join(", ");
}
