/**
 * The path of a request target as routers read it. A target is decided for the path the router in
 * front of the handler routes on, and routers disagree about the same bytes: an absolute-form
 * target (`GET http://anything/payroll/42`), dot segments, encoded or doubled slashes,
 * backslashes, `;` parameters, percent-encoded letters. Where stepup runs inside the router
 * (Express, Fastify) it reads the path as that router does; where it cannot know what routes next
 * (behind Envoy), it reads the path every way a router on the way may read it, and the target is
 * decided only when every reading gives the same one.
 */

/** `scheme://authority` at the start of an absolute-form target (RFC 9112 section 3.2.2). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;
/** find-my-way's own test for an absolute-form target (it keeps what follows the authority's slash). */
const FIND_MY_WAY_ABSOLUTE = /^https?:\/\/.*?\//;
/** A dot segment, plain or percent-encoded. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** The origin-form path of a request target: the path of an absolute-form target, without query or fragment. */
export function originPath(target: string): string {
  let path = target;
  const absolute = ABSOLUTE_FORM.exec(path);
  if (absolute) path = path.slice(absolute[0].length);
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  return path.startsWith("/") ? path : `/${path}`;
}

/**
 * The path Fastify routes on (find-my-way 9): an absolute-form target from the slash after its
 * authority, cut at `?` or `#`, percent-decoded but for the characters a path component keeps
 * encoded (`%2F` stays). A target find-my-way cannot decode gets its 400 before any hook runs.
 */
export function fastifyPath(url: string): string {
  let path = url.charCodeAt(0) === 0x2f ? url : url.replace(FIND_MY_WAY_ABSOLUTE, "/");
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (!path.includes("%")) return path;
  try {
    // decodeURI keeps reserved characters encoded, as find-my-way does; %25 must stay %25.
    return decodeURI(path.replace(/%25/g, "%2525"));
  } catch {
    return path;
  }
}

/**
 * The other paths Fastify may route the same target on, depending on its router options
 * (`ignoreDuplicateSlashes`, `useSemicolonDelimiter`, which cuts the path at its first `;`).
 */
export function fastifyReadings(path: string): string[] {
  return [...new Set([mergeSlashes(path), path.split(";")[0]!])].filter((reading) => reading !== path);
}

/**
 * Every reading of a path that some router on the way may route on: as sent; with doubled slashes
 * merged (Envoy's `merge_slashes`, find-my-way's `ignoreDuplicateSlashes`); without a trailing
 * slash (Express by default, find-my-way's `ignoreTrailingSlash`); as a WHATWG URL
 * parser reads it (backslashes as slashes, dot segments resolved, `%2e` included); normalized as
 * RFC 3986 section 6 says (unreserved characters decoded, dot segments removed: Envoy's
 * `normalize_path`); with encoded slashes and backslashes decoded too, once and twice (Envoy's
 * `UNESCAPE_AND_FORWARD`, servers that decode twice); without `;` parameters (Tomcat, Spring,
 * find-my-way's `useSemicolonDelimiter`); and as find-my-way decodes it. The first is the path as
 * sent. Case is left to the matcher, which compares both ways.
 */
export function pathReadings(path: string): string[] {
  const origin = originPath(path);
  if (PLAIN_PATH.test(origin)) return origin.length > 1 && origin.endsWith("/") ? [origin, origin.slice(0, -1)] : [origin];
  return everyReading(origin);
}

/**
 * A path every router reads as sent: non-empty segments of unreserved characters, none of them a
 * dot segment, and perhaps a trailing slash. Decoding, merging, resolving and cutting leave it as
 * it is, so its readings are itself and itself without the trailing slash.
 */
const PLAIN_PATH = /^(?:\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._~-]+)*\/?$/;

/** `pathReadings` of an origin-form path computed reading by reading, without the shortcut for a plain path. */
export function everyReading(origin: string): string[] {
  const readings = new Set<string>([origin]);
  readings.add(mergeSlashes(origin));
  readings.add(whatwgPath(origin));
  readings.add(removeDotSegments(mergeSlashes(decodeUnreserved(origin))));
  const once = decodeAll(origin).replace(/\\/g, "/");
  readings.add(removeDotSegments(mergeSlashes(once)));
  readings.add(removeDotSegments(mergeSlashes(decodeAll(once).replace(/\\/g, "/"))));
  readings.add(origin.replace(/;[^/]*/g, ""));
  readings.add(origin.split(";")[0]!);
  readings.add(fastifyPath(origin));
  for (const reading of [...readings]) if (reading.length > 1) readings.add(reading.replace(/\/+$/, "") || "/");
  return [...readings];
}

/**
 * Whether every reading of the path has the segments of the path as sent, each decoded: false
 * when a router on the way could split or join the path differently (dot segments, encoded or
 * doubled slashes, backslashes, `;` parameters).
 */
export function hasOneStructure(path: string): boolean {
  // A trailing slash is the same resource to every router that ignores it, and to none that does not.
  const segments = (p: string) => p.replace(/\/$/, "").split("/").map(decodeSegment);
  const sent = segments(originPath(path));
  if (DOT_SEGMENT.test(originPath(path))) return false;
  return pathReadings(path).every((reading) => {
    const read = segments(reading);
    return read.length === sent.length && read.every((segment, i) => segment === sent[i]);
  });
}

function mergeSlashes(path: string): string {
  return path.replace(/\/{2,}/g, "/");
}

function whatwgPath(path: string): string {
  try {
    return new URL(`http://h${path.startsWith("/") ? "" : "/"}${path}`).pathname;
  } catch {
    return path;
  }
}

/** RFC 3986 section 5.2.4. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  for (const segment of path.split("/").slice(1)) {
    if (segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  const last = path.split("/").at(-1);
  return `/${out.join("/")}${last === "." || last === ".." ? (out.length > 0 ? "/" : "") : ""}`;
}

/** RFC 3986 section 6.2.2.2: percent-encoded unreserved characters (letters, digits, `-._~`) decoded. */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (encoded, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded;
  });
}

/** Every percent-encoded byte decoded, as a router that unescapes the whole path does. */
function decodeAll(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
