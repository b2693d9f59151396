# Tests of answer.rego: the plugin's result for each outcome, and the RFC 9470 challenge.
# The shared request and token helpers are in envoy_test.rego.
package stepup.envoy_test

import data.stepup.envoy

test_success_allow_carries_the_decision_for_the_upstream if {
	headers := object.union(_bearer(object.union(_fresh_passkey, {"acr": "phrh"})), {"x-device-posture": _posture({
		"managed": true, "compliant": true, "disk_encrypted": true, "edr_running": true,
		"os_patch_age_days": 3, "device_kind": "laptop",
	})})
	response := envoy.response with input as _with_headers(headers) with data.stepup_envoy as _settings
		with data.system.bundles as {"s": {"manifest": {"revision": "r9", "metadata": {"stepup": {"policy_version": "2"}}}}}
	response.allowed == true

	# The plugin keeps no history of the subject, so its context counts as unfamiliar (medium risk).
	response.headers == {"x-stepup-decision-id": "req-1", "x-stepup-risk-level": "medium", "x-stepup-revision": "r9"}
	response.dynamic_metadata.stepup.outcome == "allow"
}

test_success_step_up_is_an_rfc_9470_challenge if {
	stale := _bearer({"acr": "phr", "amr": ["hwk"], "auth_time": _now - 90000})
	response := envoy.response with input as _with_headers(stale) with data.stepup_envoy as _settings
	response.allowed == false
	response.http_status == 401
	challenge := response.headers["www-authenticate"]
	startswith(challenge, `Bearer realm="edge", error="insufficient_user_authentication", error_description="More recent`)
	body := json.unmarshal(response.body)
	body.error == "insufficient_user_authentication"
	body.decision_id == "req-1"
	endswith(challenge, sprintf(`max_age="%d"`, [body.max_age]))
}

test_success_challenge_without_a_token_has_no_error_code if {
	response := envoy.response with input as _request({}) with data.stepup_envoy as {"targets": _settings.targets}
	challenge := response.headers["www-authenticate"]
	startswith(challenge, `Bearer acr_values="`)
	not contains(challenge, "error=")
}

test_success_deny_names_the_decision_and_reasons if {
	request := object.union(_address("203.0.113.77"), {"attributes": {"contextExtensions": {"stepup_app": "payroll"}}})
	response := envoy.response with input as request with data.stepup_envoy as _settings
	response.http_status == 403
	body := json.unmarshal(response.body)
	body.error == "access_denied"
	body.decision_id == "req-1"
	"stop.malicious_ip" in body.reasons
}

test_fail_closed_when_the_policy_gives_no_verdict if {
	response := envoy.response with input as _request({}) with data.stepup.decision as "not a verdict"
	json.unmarshal(response.body).reasons == ["engine.failure"]
}

test_success_gap_descriptions if {
	both := "A different authentication level and more recent authentication are required"
	envoy.describe_gap(["session.aal_insufficient", "session.too_old"]) == both
	envoy.describe_gap({"session.not_phishing_resistant"}) == "A different authentication level is required"
	envoy.describe_gap(["session.auth_time_invalid"]) == "More recent authentication is required"
	envoy.describe_gap([]) == "Stronger authentication is required"
}

test_success_challenge_quoting if {
	envoy.quote("a \"b\" \\c\u0001") == `"a \"b\" \\c"`
	requirement := {"acr_values": [], "max_age": 300}
	challenge := concat(", ", [
		`Bearer error="insufficient_user_authentication"`,
		`error_description="More recent authentication is required"`,
		`max_age="300"`,
	])
	envoy.step_up_challenge(requirement, ["session.too_old"], true, null) == challenge
}
