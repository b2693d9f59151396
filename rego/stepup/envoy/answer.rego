# The answer to Envoy
#
# The decision as the plugin's result, the same answer the SDK's guard gives: allow goes on to
# the upstream with the decision id, risk level and bundle revision in request headers; step_up
# is 401 with RFC 9470's challenge in WWW-Authenticate; deny is 403 with a JSON body naming the
# decision id and the reason codes (never the input, the risk detail or the token). A token that
# does not verify is 401 invalid_token; a request that cannot be decided is denied.
package stepup.envoy

_refusal_headers := {"cache-control": "no-store", "content-type": "application/json; charset=utf-8"}

_level_gaps := {"session.aal_insufficient", "session.not_phishing_resistant"}

_recency_gaps := {"session.too_old", "session.auth_time_invalid"}

_realm := object.get(settings, "realm", null)

_metadata(verdict) := {"stepup": {
	"decision_id": decision_id,
	"outcome": verdict.outcome,
	"tier": verdict.tier,
	"risk_level": verdict.risk.level,
	"risk_score": verdict.risk.score,
	"reasons": sort(verdict.reasons),
	"revision": revision,
}}

# METADATA
# description: The plugin's result for a decision.
answer(verdict) := {
	"allowed": true,
	"headers": {
		"x-stepup-decision-id": decision_id,
		"x-stepup-risk-level": verdict.risk.level,
		"x-stepup-revision": revision,
	},
	"dynamic_metadata": _metadata(verdict),
} if {
	verdict.outcome == "allow"
} else := {
	"allowed": false,
	"http_status": 401,
	"headers": object.union(_refusal_headers, {"www-authenticate": step_up_challenge(verdict.requirement, verdict.reasons, token_status == "ok", _realm)}),
	"body": json.marshal({
		"error": "insufficient_user_authentication",
		"error_description": describe_gap(verdict.reasons),
		"decision_id": decision_id,
		"reasons": sort(verdict.reasons),
		"acr_values": verdict.requirement.acr_values,
		"max_age": verdict.requirement.max_age,
	}),
	"dynamic_metadata": _metadata(verdict),
} if {
	verdict.outcome == "step_up"
	verdict.requirement.kind == "session"
} else := {
	"allowed": false,
	"http_status": 403,
	"headers": _refusal_headers,
	"body": json.marshal({"error": "access_denied", "decision_id": decision_id, "reasons": sort(verdict.reasons)}),
	"dynamic_metadata": _metadata(verdict),
} if {
	is_object(verdict)
} else := answer_failed

# METADATA
# description: The fail-closed deny, for a request that cannot be decided.
answer_failed := {
	"allowed": false,
	"http_status": 403,
	"headers": _refusal_headers,
	"body": json.marshal({"error": "access_denied", "decision_id": decision_id, "reasons": ["engine.failure"]}),
	"dynamic_metadata": {"stepup": {"decision_id": decision_id, "outcome": "deny", "reasons": ["engine.failure"], "problems": sort(problems), "revision": revision}},
}

# METADATA
# description: RFC 6750's answer for a bearer token that does not verify.
answer_invalid_token := {
	"allowed": false,
	"http_status": 401,
	"headers": object.union(_refusal_headers, {"www-authenticate": _bearer(array.concat(_realm_param(_realm), [["error", "invalid_token"], ["error_description", _token_description]]))}),
	"body": json.marshal({"error": "invalid_token", "error_description": _token_description}),
	"dynamic_metadata": {"stepup": {"decision_id": decision_id, "outcome": "invalid_token", "revision": revision}},
}

_token_description := "The access token expired" if token_status == "expired" else := "The access token is invalid"

# METADATA
# description: The error_description for what the session lacks, from the decision's reason codes.
describe_gap(reasons) := "A different authentication level and more recent authentication are required" if {
	_any_in(reasons, _level_gaps)
	_any_in(reasons, _recency_gaps)
} else := "A different authentication level is required" if {
	_any_in(reasons, _level_gaps)
} else := "More recent authentication is required" if {
	_any_in(reasons, _recency_gaps)
} else := "Stronger authentication is required"

_any_in(reasons, codes) if {
	some r in reasons
	r in codes
}

# METADATA
# description: RFC 9470's challenge for a session requirement; the error code only when a verified token was sent.
step_up_challenge(requirement, reasons, had_token, realm) := _bearer(array.concat(
	array.concat(_realm_param(realm), _error_params(reasons, had_token)),
	array.concat(_acr_param(requirement.acr_values), [["max_age", format_int(requirement.max_age, 10)]]),
))

_realm_param(realm) := [["realm", realm]] if _non_empty(realm) else := []

_error_params(reasons, true) := [["error", "insufficient_user_authentication"], ["error_description", describe_gap(reasons)]]

_error_params(_, false) := []

_acr_param(values) := [["acr_values", concat(" ", values)]] if count(values) > 0 else := []

_bearer(params) := concat("", ["Bearer ", concat(", ", [sprintf("%s=%s", [k, quote(_describable(k, v))]) | some [k, v] in params])])

_describable("error_description", text) := regex.replace(text, `[^\x20-\x21\x23-\x5b\x5d-\x7e]`, "")

_describable(k, text) := text if k != "error_description"

# METADATA
# description: An RFC 7230 quoted-string, control characters dropped.
quote(value) := concat("", [`"`, replace(replace(regex.replace(value, `[\x00-\x1f\x7f]`, ""), `\`, `\\`), `"`, `\"`), `"`])
