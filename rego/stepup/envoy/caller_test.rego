# Tests of caller.rego: who is asking — a verified token, an mTLS peer, or nobody.
# The shared request and token helpers are in envoy_test.rego.
package stepup.envoy_test

import data.stepup.envoy
import data.stepup.envoy.keys_test as keys

test_success_anonymous_without_a_token if {
	doc := envoy.input_document with input as _request({}) with data.stepup_envoy as _settings
	doc.subject == {
		"id": "anonymous", "kind": "human", "roles": [],
		"groups": [], "tags": [], "privilege_granted_at": null,
	}
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
	doc.subject == {
		"id": "alice@example.com", "kind": "human", "roles": ["admin", "ops"],
		"groups": [], "tags": [], "privilege_granted_at": null,
	}
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
	doc.subject == {
		"id": "spiffe://example.org/billing", "kind": "workload", "roles": [],
		"groups": [], "tags": [], "privilege_granted_at": null,
	}
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
