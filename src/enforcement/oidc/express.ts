/**
 * Express integration of the step-up login: one middleware, app-wide or per route, that answers
 * the provider's callback, sends the browser to the provider when stepup asks for a step-up, and
 * otherwise behaves as `stepupExpress` (next() on allow with `req.stepup` set, 403 on deny).
 */
import type { TargetOverride } from "../../signals/target.js";
import { expressFacts, type ExpressHandler } from "../express.js";
import type { BrowserAnswer, StepUpLogin } from "./browser.js";

/**
 * @example
 * const login = new StepUpLogin({ guard, rp, cookieSecret: process.env.COOKIE_SECRET! });
 * app.use(stepUpLoginExpress(login));   // before the routes: it also serves the redirect URI
 */
export function stepUpLoginExpress(login: StepUpLogin, options: { target?: TargetOverride } = {}): ExpressHandler {
  return (req, res, next) => {
    login.handle({ facts: expressFacts(req), url: req.originalUrl, ...(options.target ? { target: options.target } : {}) }).then((answer: BrowserAnswer) => {
      for (const line of answer.setCookies) res.append("set-cookie", line);
      if (answer.proceed) {
        req.stepup = answer.result;
        return next();
      }
      res.status(answer.status).set(answer.headers);
      if (answer.body) res.send(JSON.stringify(answer.body));
      else res.end();
    }, next);
  };
}
