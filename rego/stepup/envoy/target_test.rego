# Tests of target.rego: the app and action from context extensions or routes.
# The shared request and token helpers are in envoy_test.rego.
package stepup.envoy_test

import data.stepup.envoy

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
