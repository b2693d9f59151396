package stepup.stops_test

import data.stepup.stops

_request(reputation, kind, app, action) := {
	"device": {"attested": true, "managed": true, "compliant": true, "kind": kind},
	"network": {"zone": "external", "reputation": reputation},
	"target": {"app": app, "action": action},
}

test_malicious_ip_on_sensitive_target_stops if {
	stops.active == {"stop.malicious_ip"} with input as _request("malicious", "laptop", "payroll", "read")
}

test_malicious_ip_on_low_target_does_not_stop if {
	stops.active == set() with input as _request("malicious", "laptop", "intranet", "read")
}

test_shared_device_on_critical_target_stops if {
	stops.active == {"stop.shared_device"} with input as _request("good", "shared", "admin-console", "admin")
}

test_shared_device_on_high_target_does_not_stop if {
	stops.active == set() with input as _request("good", "shared", "admin-console", "read")
}
