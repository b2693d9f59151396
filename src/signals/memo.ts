/**
 * A bounded memo for pure functions of a request's text (a User-Agent header, a peer
 * certificate): the same few values arrive on most requests, and parsing them is the costly part.
 * The oldest entry goes first when it is full, so distinct values sent to fill it cost what they
 * would cost without it and never grow memory.
 */
export function memoize<T>(compute: (key: string) => T, maxEntries = 1_000): (key: string) => T {
  const entries = new Map<string, T>();
  return (key) => {
    const hit = entries.get(key);
    if (hit !== undefined || entries.has(key)) return hit as T;
    const value = compute(key);
    entries.set(key, value);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    return value;
  };
}
