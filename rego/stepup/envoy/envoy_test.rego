# Tests of envoy.rego (what the request must carry, the time, the decision id, the revision), and
# the request, token and posture helpers the other test files of this package share.
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
