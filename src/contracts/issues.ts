/** Turns zod's issues into stepup's: a dotted path that names the field, and a short message. */
import type * as z from "zod";
import type { Issue } from "../errors.js";

export function toIssues(error: z.core.$ZodError, root = ""): Issue[] {
  const issues: Issue[] = [];
  collect(error.issues, root, issues);
  return issues;
}

function collect(found: readonly z.core.$ZodIssue[], root: string, issues: Issue[]): void {
  for (const issue of found) {
    const at = joinPath(root, issue.path);
    // A union whose value has the type of exactly one of its options (an array where an array or
    // an object may stand): that option's own issues name the field.
    const fitting = issue.code === "invalid_union" ? issue.errors.filter((errs) => !errs.some((e) => e.code === "invalid_type" && e.path.length === 0)) : [];
    if (fitting.length === 1) {
      collect(fitting[0]!, at, issues);
    } else if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) issues.push({ path: joinPath(at, [key]), message: "unknown field" });
    } else if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
      issues.push({ path: at, message: `is required (${issue.expected})` });
    } else {
      issues.push({ path: at, message: issue.message.replace(/^Invalid input: /, "") });
    }
  }
}

function joinPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
