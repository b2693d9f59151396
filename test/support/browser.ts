/**
 * A scripted browser for the identity-provider journeys: a cookie jar (tough-cookie), redirects
 * followed one by one as a browser follows them (303 and the 301/302 of a POST become a GET), and
 * the provider's real HTML forms read (node-html-parser) and submitted with their hidden fields.
 * Loopback only: a request to any other host is refused before it is sent.
 */
import { parse, type HTMLElement } from "node-html-parser";
import { CookieJar } from "tough-cookie";

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** Every URL this navigation went through, the first request included. */
  readonly trail: readonly string[];
}

const MAX_REDIRECTS = 20;
const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

export class Browser {
  readonly jar = new CookieJar();

  /** Navigates to `url` (GET, or POST with a form body), following redirects. */
  async go(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    let method = init.method ?? (init.form ? "POST" : "GET");
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    let current = url;
    const trail: string[] = [];
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      trail.push(current);
      const res = await this.send(current, method, body, hop === 0 ? init.headers : undefined);
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        current = new URL(location, current).href;
        // RFC 9110 15.4: browsers turn a redirected POST into a GET (303 always, 301/302 in practice).
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        await res.arrayBuffer();
        continue;
      }
      return { url: current, status: res.status, headers: res.headers, text: await res.text(), trail };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  }

  /** Fills the form found by `selector` on the page (its hidden fields kept) and submits it. */
  async submit(page: Page, selector: string, fields: Record<string, string>): Promise<Page> {
    const form = formOf(page, selector);
    const values: Record<string, string> = {};
    for (const input of form.querySelectorAll("input")) {
      const name = input.getAttribute("name");
      const type = (input.getAttribute("type") ?? "text").toLowerCase();
      if (!name || type === "submit" || type === "button" || type === "checkbox" || type === "radio") continue;
      values[name] = input.getAttribute("value") ?? "";
    }
    const action = new URL(form.getAttribute("action") ?? page.url, page.url).href;
    return this.go(action, { method: (form.getAttribute("method") ?? "GET").toUpperCase(), form: { ...values, ...fields } });
  }

  /** Whether the page holds a form matching `selector`. */
  has(page: Page, selector: string): boolean {
    return parse(page.text).querySelector(selector) !== null;
  }

  private async send(url: string, method: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
    const target = new URL(url);
    if (!LOOPBACK.has(target.hostname)) throw new Error(`the test browser only goes to loopback, not ${target.hostname}`);
    const cookie = await this.jar.getCookieString(url);
    const res = await fetch(url, {
      method,
      redirect: "manual",
      headers: {
        accept: "text/html,application/json;q=0.9",
        ...(cookie ? { cookie } : {}),
        ...(body !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      body,
      signal: AbortSignal.timeout(20_000),
    });
    for (const line of res.headers.getSetCookie()) await this.jar.setCookie(line, url, { ignoreError: true });
    return res;
  }
}

function formOf(page: Page, selector: string): HTMLElement {
  const form = parse(page.text).querySelector(selector);
  if (!form) throw new Error(`no form ${selector} on ${page.url} (status ${page.status}): ${page.text.slice(0, 400)}`);
  return form;
}
