# The answer to Envoy
#
# The decision as the plugin's result, the same answer the SDK's guard gives: allow goes on to
# the upstream with the decision id, risk level and bundle revision in request headers; step_up
# is 401 with RFC 9470's challenge in WWW-Authenticate; deny is 403 with a JSON body naming the
# decision id and the reason codes (never the input, the risk detail or the token). A token that
# does not verify is 401 invalid_token; a request that cannot be decided is denied.
package stepup.envoy

_refusal_headers := {"cache-control": "no-store", "content-type": "application/json; charset=utf-8"}

_realm := object.get(settings, "realm", null)

_summary := {"stepup": {
	"decision_id": decision_id,
	"outcome": _verdict.outcome,
	"tier": _verdict.tier,
	"risk_level": _verdict.risk.level,
	"risk_score": _verdict.risk.score,
	"reasons": sort(_verdict.reasons),
	"revision": revision,
}}

_answer_allow := {
	"allowed": true,
	"headers": {
		"x-stepup-decision-id": decision_id,
		"x-stepup-risk-level": _verdict.risk.level,
		"x-stepup-revision": revision,
	},
	"dynamic_metadata": _summary,
}

_challenge := step_up_challenge(_verdict.requirement, _verdict.reasons, token_status == "ok", _realm)

_answer_step_up := {
	"allowed": false,
	"http_status": 401,
	"headers": object.union(_refusal_headers, {"www-authenticate": _challenge}),
	"body": json.marshal({
		"error": "insufficient_user_authentication",
		"error_description": describe_gap(_verdict.reasons),
		"decision_id": decision_id,
		"reasons": sort(_verdict.reasons),
		"acr_values": _verdict.requirement.acr_values,
		"max_age": _verdict.requirement.max_age,
	}),
	"dynamic_metadata": _summary,
}

# A workload is never prompted, so a step-up on a workload requirement is a 403 too.
_answer_deny := {
	"allowed": false,
	"http_status": 403,
	"headers": _refusal_headers,
	"body": json.marshal({"error": "access_denied", "decision_id": decision_id, "reasons": sort(_verdict.reasons)}),
	"dynamic_metadata": _summary,
}

# METADATA
# description: The plugin's result for the policy's verdict.
answer := _answer_allow if {
	_verdict.outcome == "allow"
} else := _answer_step_up if {
	_verdict.outcome == "step_up"
	_verdict.requirement.kind == "session"
} else := _answer_deny if {
	is_object(_verdict)
} else := answer_failed

# METADATA
# description: The fail-closed deny, for a request that cannot be decided.
answer_failed := {
	"allowed": false,
	"http_status": 403,
	"headers": _refusal_headers,
	"body": json.marshal({"error": "access_denied", "decision_id": decision_id, "reasons": ["engine.failure"]}),
	"dynamic_metadata": {"stepup": {
		"decision_id": decision_id,
		"outcome": "deny",
		"reasons": ["engine.failure"],
		"problems": sort(problems),
		"revision": revision,
	}},
}

_invalid_token_params := [["error", "invalid_token"], ["error_description", _token_description]]

_invalid_token_challenge := _bearer(array.concat(_realm_param(_realm), _invalid_token_params))

# METADATA
# description: RFC 6750's answer for a bearer token that does not verify.
answer_invalid_token := {
	"allowed": false,
	"http_status": 401,
	"headers": object.union(_refusal_headers, {"www-authenticate": _invalid_token_challenge}),
	"body": json.marshal({"error": "invalid_token", "error_description": _token_description}),
	"dynamic_metadata": {"stepup": {"decision_id": decision_id, "outcome": "invalid_token", "revision": revision}},
}

default _token_description := "The access token is invalid"

_token_description := "The access token expired" if token_status == "expired"

# METADATA
# description: The error_description for what the session lacks, from the decision's reason codes.
describe_gap(reasons) := "A different authentication level and more recent authentication are required" if {
	_lacks_level(reasons)
	_lacks_recency(reasons)
} else := "A different authentication level is required" if {
	_lacks_level(reasons)
} else := "More recent authentication is required" if {
	_lacks_recency(reasons)
} else := "Stronger authentication is required"

_lacks_level(reasons) if {
	some r in reasons
	r in {"session.aal_insufficient", "session.not_phishing_resistant"}
}

_lacks_recency(reasons) if {
	some r in reasons
	r in {"session.too_old", "session.auth_time_invalid"}
}

# METADATA
# description: RFC 9470's challenge for a session requirement; the error code only when a verified token came.
step_up_challenge(requirement, reasons, had_token, realm) := _bearer(array.flatten([
	_realm_param(realm),
	_error_params(reasons, had_token),
	_acr_param(requirement.acr_values),
	[["max_age", format_int(requirement.max_age, 10)]],
]))

default _realm_param(_) := []

_realm_param(realm) := [["realm", realm]] if _non_empty(realm)

_error_params(reasons, true) := [
	["error", "insufficient_user_authentication"],
	["error_description", describe_gap(reasons)],
]

_error_params(_, false) := []

default _acr_param(_) := []

_acr_param(values) := [["acr_values", concat(" ", values)]] if count(values) > 0

_bearer(params) := concat("", ["Bearer ", concat(", ", [_param(k, v) | some [k, v] in params])])

_param(k, v) := sprintf("%s=%s", [k, quote(_describable(k, v))])

# RFC 6750 section 3: error_description holds %x20-21 / %x23-5B / %x5D-7E only.
_describable("error_description", text) := regex.replace(text, `[^\x20-\x21\x23-\x5b\x5d-\x7e]`, "")

_describable(k, text) := text if k != "error_description"

# METADATA
# description: An RFC 7230 quoted-string, control characters dropped.
quote(value) := concat("", [`"`, _escaped(regex.replace(value, `[\x00-\x1f\x7f]`, "")), `"`])

_escaped(text) := replace(replace(text, `\`, `\\`), `"`, `\"`)
