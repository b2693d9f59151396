/** Turns zod's issues into stepup's: a dotted path that names the field, and a short message. */
import type * as z from "zod";
import type { Issue } from "../errors.js";

export function toIssues(error: z.ZodError, root = ""): Issue[] {
  const issues: Issue[] = [];
  for (const issue of error.issues) {
    const at = joinPath(root, issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) issues.push({ path: joinPath(at, [key]), message: "unknown field" });
    } else if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
      issues.push({ path: at, message: `is required (${issue.expected})` });
    } else {
      issues.push({ path: at, message: issue.message.replace(/^Invalid input: /, "") });
    }
  }
  return issues;
}

function joinPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
