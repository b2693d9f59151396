package stepup.envoy_test

import data.stepup.envoy
import data.stepup.envoy.keys_test as keys

_now := 1795852800

_settings := {
	"session": {"issuer": "https://idp.test", "audience": "api://edge", "jwks": {"keys": [keys.es256_public]}},
	"device": {"issuer": "https://mdm.test", "jwks": {"keys": [keys.ed_public]}, "subject_claim": "user"},
	"network": {
		"corporate": ["198.51.100.0/24"],
		"known": ["192.0.2.0/24", "2001:db8:c0::/48"],
		"lists": [
			{"cidrs": ["203.0.113.66", "203.0.113.77"], "reputation": "suspicious"},
			{"cidrs": ["203.0.113.77/32", "2001:db8:bad::1"], "reputation": "malicious"},
			{"cidrs": ["203.0.113.66"], "anonymizer": "tor"},
		],
	},
	"workloads": {"storage": "workload_api"},
	"targets": {"routes": [
		{"path": "/wiki/**", "app": "wiki"},
		{"methods": ["post"], "path": "/admin/*", "app": "admin-console", "action": "admin"},
		{"methods": ["GET"], "path": "/payroll/*/slips", "app": "payroll"},
	]},
	"realm": "edge",
}

# A CheckRequest as opa-envoy-plugin gives it to the policy (protobuf JSON names).
_request(overrides) := object.union(
	{"attributes": {
		"source": {"address": {"socketAddress": {"address": "198.51.100.7", "portValue": 50000}}},
		"request": {
			"time": {"seconds": _now},
			"http": {"id": "req-1", "method": "GET", "path": "/wiki/home?x=1", "headers": {"host": "app.test"}},
		},
	}},
	overrides,
)

_with_headers(headers) := _request({"attributes": {"request": {"http": {"headers": headers}}}})

_token(claims) := io.jwt.encode_sign(
	{"alg": "ES256", "kid": "es256", "typ": "at+jwt"},
	object.union(_base_claims, claims),
	keys.es256_private,
)

_base_claims := {
	"iss": "https://idp.test", "aud": "api://edge", "sub": "alice@example.com", "client_id": "web",
	"iat": _now - 30, "exp": _now + 3600, "jti": "j1",
}

_fresh_passkey := {"acr": "phr", "amr": ["hwk"], "auth_time": _now - 60}

_bearer(claims) := {"authorization": concat(" ", ["Bearer", _token(claims)])}

_posture(claims) := io.jwt.encode_sign(
	{"alg": "EdDSA", "kid": "ed"}, object.union(
		{"iss": "https://mdm.test", "iat": _now - 60, "exp": _now + 3600, "user": "alice@example.com", "sub": "lt-1"},
		claims,
	),
	keys.ed_private,
)

test_fail_closed_on_a_request_without_what_a_decision_needs if {
	missing := {"attributes.request.http.method", "attributes.request.http.path", "attributes.request.time"}
	envoy.problems == missing with input as {}
	response := envoy.response with input as {}
	response.allowed == false
	response.http_status == 403
	json.unmarshal(response.body).reasons == ["engine.failure"]
	response.dynamic_metadata.stepup.problems == sort(missing)
	regex.match(`^[0-9a-f-]{36}$`, json.unmarshal(response.body).decision_id)
}

test_success_time_from_the_request if {
	envoy.now == _now with input as _request({})
	epoch := json.patch(_request({}), [{"op": "replace", "path": "/attributes/request/time", "value": {"nanos": 5}}])
	envoy.now == 0 with input as epoch
	before := _request({"attributes": {"request": {"time": {"seconds": -1}}}})
	envoy.problems == {"attributes.request.time"} with input as before
}

test_success_decision_id_is_envoys_request_id if {
	envoy.decision_id == "req-1" with input as _request({})
}

test_success_revision_of_the_stepup_bundle if {
	bundles := {
		"edge": {"manifest": {"revision": "e1", "roots": ["stepup_envoy"]}},
		"stepup": {"manifest": {"revision": "r1", "metadata": {"stepup": {"policy_version": "2"}}}},
	}
	envoy.revision == "r1" with data.system.bundles as bundles
	envoy.revision == "unknown" with data.system.bundles as {}
}

test_success_anonymous_without_a_token if {
	doc := envoy.input_document with input as _request({}) with data.stepup_envoy as _settings
	doc.subject == {"id": "anonymous", "kind": "human", "roles": [], "groups": [], "tags": []}
	doc.session == null
	doc.credential == null
	doc.device == {
		"id": null, "attested": false, "managed": null, "compliant": null,
		"encrypted": null, "edr_running": null, "os_patch_age_days": null, "kind": null,
	}
	doc.network == {"ip": "198.51.100.7", "zone": "corporate", "reputation": "neutral", "anonymizer": "none", "asn": null}
	doc.target == {"app": "wiki", "action": "read", "resource": "/wiki/home"}
	doc.geo == null
	doc.behavior == null
}

test_success_session_from_a_verified_access_token if {
	claims := object.union(_fresh_passkey, {"roles": ["admin", {"value": "ops"}, 7], "groups": "not-a-list"})
	doc := envoy.input_document with input as _with_headers(_bearer(claims)) with data.stepup_envoy as _settings
	doc.subject == {"id": "alice@example.com", "kind": "human", "roles": ["admin", "ops"], "groups": [], "tags": []}
	doc.session == {"acr": "phr", "amr": ["hwk"], "auth_time": _now - 60}
}

test_success_malformed_session_claims_are_unknown if {
	claims := {"acr": "", "amr": ["hwk", 3], "auth_time": 1.5}
	doc := envoy.input_document with input as _with_headers(_bearer(claims)) with data.stepup_envoy as _settings
	doc.session == {"acr": null, "amr": null, "auth_time": null}
}

test_success_client_credentials_token_is_a_service if {
	doc := envoy.input_document with input as _with_headers(_bearer({"client_id": "alice@example.com"}))
		with data.stepup_envoy as _settings
	doc.subject.kind == "service"
	doc.session == null
	doc.credential == {
		"type": "oauth_client_credentials", "issued_at": _now - 30, "expires_at": _now + 3600,
		"storage": null, "spiffe_id": null,
	}
}

test_success_id_tokens_when_configured if {
	settings := object.union(_settings, {"session": object.union(_settings.session, {"token_kind": "id_token"})})
	claims := object.union(_base_claims, _fresh_passkey)
	token := io.jwt.encode_sign({"alg": "ES256", "kid": "es256"}, claims, keys.es256_private)
	doc := envoy.input_document with input as _with_headers({"authorization": concat(" ", ["bearer", token])})
		with data.stepup_envoy as settings
	doc.subject.kind == "human"
	doc.session.acr == "phr"
}

test_fail_invalid_token_is_401_invalid_token if {
	response := envoy.response with input as _with_headers(_bearer({"aud": "api://other"}))
		with data.stepup_envoy as _settings
	response.http_status == 401
	challenge := `Bearer realm="edge", error="invalid_token", error_description="The access token is invalid"`
	response.headers["www-authenticate"] == challenge
	json.unmarshal(response.body) == {"error": "invalid_token", "error_description": "The access token is invalid"}
}

test_fail_expired_token_says_so if {
	response := envoy.response with input as _with_headers(_bearer({"exp": _now - 600}))
		with data.stepup_envoy as _settings
	response.http_status == 401
	json.unmarshal(response.body).error_description == "The access token expired"
}

test_fail_malformed_bearer_credential_is_invalid if {
	envoy.token_status == "invalid" with input as _with_headers({"authorization": "Bearer a b"})
		with data.stepup_envoy as _settings
	envoy.token_status == "invalid" with input as _with_headers({"authorization": "Bearer"})
		with data.stepup_envoy as _settings
}

test_success_other_schemes_and_no_settings_mean_no_token if {
	envoy.token_status == "none" with input as _with_headers({"authorization": "Basic YTpi"})
		with data.stepup_envoy as _settings
	envoy.token_status == "none" with input as _with_headers(_bearer({})) with data.stepup_envoy as {}
	envoy.caller.subject.id == "anonymous" with input as _with_headers(_bearer({})) with data.stepup_envoy as {}
}

test_success_spiffe_peer_is_a_workload_with_its_svid if {
	source := {"principal": "spiffe://example.org/billing", "certificate": urlquery.encode(keys.billing_svid)}
	doc := envoy.input_document with input as _request({"attributes": {"source": source}})
		with data.stepup_envoy as _settings
	doc.subject == {"id": "spiffe://example.org/billing", "kind": "workload", "roles": [], "groups": [], "tags": []}
	doc.credential == {
		"type": "spiffe_svid", "issued_at": 1795852200, "expires_at": 1795855800,
		"storage": "workload_api", "spiffe_id": "spiffe://example.org/billing",
	}
}

test_success_other_peer_is_a_service_with_mtls if {
	source := {"principal": "reports.internal", "certificate": "not a certificate"}
	doc := envoy.input_document with input as _request({"attributes": {"source": source}})
		with data.stepup_envoy as {"targets": _settings.targets}
	doc.subject.kind == "service"
	doc.credential == {"type": "mtls", "issued_at": null, "expires_at": null, "storage": null, "spiffe_id": null}
}

test_success_a_token_wins_over_the_peer if {
	request := _request({"attributes": {
		"source": {"principal": "spiffe://example.org/billing"},
		"request": {"http": {"headers": _bearer(_fresh_passkey)}},
	}})
	envoy.caller.subject.id == "alice@example.com" with input as request with data.stepup_envoy as _settings
}

test_success_device_from_a_verified_posture_statement if {
	headers := object.union(_bearer(_fresh_passkey), {"x-device-posture": _posture({
		"device_id": "lt-4821", "managed": true, "compliant": false, "disk_encrypted": true,
		"edr_running": "yes", "os_patch_age_days": 9, "device_kind": "laptop",
	})})
	doc := envoy.input_document with input as _with_headers(headers) with data.stepup_envoy as _settings
	doc.device == {
		"id": "lt-4821", "attested": true, "managed": true, "compliant": false,
		"encrypted": true, "edr_running": null, "os_patch_age_days": 9, "kind": "laptop",
	}
}

test_fail_posture_of_another_user_or_unverified if {
	other := object.union(_bearer(_fresh_passkey), {"x-device-posture": _posture({"user": "bob@example.com"})})
	envoy.device.attested == false with input as _with_headers(other) with data.stepup_envoy as _settings
	stale := object.union(_bearer(_fresh_passkey), {"x-device-posture": _posture({"iat": _now - 90000})})
	envoy.device.attested == false with input as _with_headers(stale) with data.stepup_envoy as _settings
	anonymous := {"x-device-posture": _posture({})}
	envoy.device.attested == false with input as _with_headers(anonymous) with data.stepup_envoy as _settings
}

test_success_unbound_posture_and_custom_header if {
	settings := json.patch(_settings, [
		{"op": "remove", "path": "/device/subject_claim"},
		{"op": "add", "path": "/device/header", "value": "X-Posture"},
		{"op": "add", "path": "/device/audience", "value": ["mdm-clients"]},
	])
	headers := {"x-posture": _posture({"aud": "mdm-clients", "os_patch_age_days": 40000, "device_kind": "toaster"})}
	doc := envoy.input_document with input as _with_headers(headers) with data.stepup_envoy as settings
	doc.device.attested == true
	doc.device.id == "lt-1"
	doc.device.os_patch_age_days == null
	doc.device.kind == null
}

test_success_device_unknown_without_settings if {
	envoy.device == null with input as _request({}) with data.stepup_envoy as {}
}

test_success_network_zones_and_lists if {
	every case in [
		["198.51.100.7", "corporate", "neutral", "none"],
		["192.0.2.10", "known", "neutral", "none"],
		["203.0.113.66", "external", "suspicious", "tor"],
		["203.0.113.77", "external", "malicious", "none"],
		["::ffff:203.0.113.77", "external", "malicious", "none"],
		["2001:DB8:C0::5", "known", "neutral", "none"],
		["2001:db8:bad::1", "external", "malicious", "none"],
	] {
		network := envoy.network with input as _address(case[0]) with data.stepup_envoy as _settings
		[network.zone, network.reputation, network.anonymizer] == array.slice(case, 1, 4)
	}
}

test_success_network_unknown_without_lists_or_a_valid_address if {
	n := envoy.network with input as _address("198.51.100.7") with data.stepup_envoy as {}
	n == {"ip": "198.51.100.7", "zone": "external", "reputation": null, "anonymizer": null, "asn": null}
	every address in ["999.1.1.1", "fe80::1%eth0", "01.2.3.4", "not an address"] {
		envoy.network.ip == null with input as _address(address) with data.stepup_envoy as _settings
	}
	envoy.network.zone == null with input as {} with data.stepup_envoy as _settings
}

_address(address) := _request({"attributes": {"source": {"address": {"socketAddress": {"address": address}}}}})

_http(method, path) := _request({"attributes": {"request": {"http": {"method": method, "path": path}}}})

test_success_target_from_context_extensions if {
	request := object.union(_http("DELETE", "/anything"), {"attributes": {"contextExtensions": {"stepup_app": "payroll"}}})
	envoy.target == {"app": "payroll", "action": "delete", "resource": "/anything"} with input as request
	explicit := object.union(request, {"attributes": {"contextExtensions": {"stepup_action": "approve"}}})
	envoy.target.action == "approve" with input as explicit
}

test_success_target_from_routes if {
	every case in [
		[["GET", "/wiki/a/b"], {"app": "wiki", "action": "read"}],
		[["POST", "/admin/users"], {"app": "admin-console", "action": "admin"}],
		[["HEAD", "/payroll/42/slips"], {"app": "payroll", "action": "read"}],
		[["PURGE", "/wiki/x"], {"app": "wiki", "action": "purge"}],
	] {
		t := envoy.target with input as _http(case[0][0], case[0][1]) with data.stepup_envoy as _settings
		object.remove(t, ["resource"]) == case[1]
	}
}

test_fail_unmapped_routes_are_denied if {
	every case in [["GET", "/admin/users"], ["GET", "/wiki"], ["GET", "/payroll//slips"], ["GET", "/elsewhere"]] {
		response := envoy.response with input as _http(case[0], case[1]) with data.stepup_envoy as _settings
		response.http_status == 403
		json.unmarshal(response.body).reasons == ["engine.failure"]
	}
}

test_success_fallback_app_and_custom_actions if {
	settings := {"targets": {"fallback_app": "intranet", "actions": {"get": "view"}}}
	envoy.target == {"app": "intranet", "action": "view", "resource": "/x"} with input as _http("GET", "/x")
		with data.stepup_envoy as settings
}

test_fail_target_breaking_the_contract_is_denied if {
	long := concat("", [c | some _ in numbers.range(1, 129); c := "a"])
	request := object.union(_http("GET", "/x"), {"attributes": {"contextExtensions": {"stepup_app": long}}})
	envoy.response.http_status == 403 with input as request
	empty := object.union(_http("GET", "/x"), {"attributes": {"contextExtensions": {"stepup_app": ""}}})
	envoy.response.http_status == 403 with input as empty
}

test_success_resource_is_unknown_when_too_long if {
	long := concat("", ["/wiki/", concat("", [c | some _ in numbers.range(1, 1100); c := "a"])])
	envoy.target.resource == null with input as _http("GET", long) with data.stepup_envoy as _settings
}

test_success_allow_carries_the_decision_for_the_upstream if {
	headers := object.union(_bearer(object.union(_fresh_passkey, {"acr": "phrh"})), {"x-device-posture": _posture({
		"managed": true, "compliant": true, "disk_encrypted": true, "edr_running": true,
		"os_patch_age_days": 3, "device_kind": "laptop",
	})})
	response := envoy.response with input as _with_headers(headers) with data.stepup_envoy as _settings
		with data.system.bundles as {"s": {"manifest": {"revision": "r9", "metadata": {"stepup": {"policy_version": "2"}}}}}
	response.allowed == true
	response.headers == {"x-stepup-decision-id": "req-1", "x-stepup-risk-level": "low", "x-stepup-revision": "r9"}
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
