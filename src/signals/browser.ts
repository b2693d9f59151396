/**
 * The browser family of a User-Agent header (bowser), for the behaviour profile: "Chrome",
 * "Microsoft Edge", "Firefox", "Safari", … A requester can send anything here, so the family only
 * ever counts against it: a family this subject has not used is new, a missing header is too.
 */
import { bowser } from "../lazy.js";
import { memoize } from "./memo.js";

// Most requests carry one of a few User-Agent strings, and bowser tries its patterns in turn.
const family = memoize((userAgent) => {
  const name = bowser().getParser(userAgent).getBrowserName();
  return name.length > 0 ? name : null;
});

export function browserFamily(userAgent: string | null): string | null {
  if (userAgent === null || userAgent.length === 0 || userAgent.length > 1024) return null;
  return family(userAgent);
}
