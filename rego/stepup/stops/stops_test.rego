package stepup.stops_test

import data.stepup.fixtures_test as f
import data.stepup.stops

_bad_ip := f.with_fields(f.person, {"network": object.union(f.corporate, {"reputation": "malicious"})})

_kiosk := f.with_fields(f.person, {"device": object.union(f.laptop, {"kind": "shared"}), "session": f.passkey})

_jump := {
	"country": "JP", "accuracy_km": 20, "distance_km": 9700,
	"previous": {"country": "FR", "accuracy_km": 20, "time": f.now - 3600, "anonymized": false},
}

test_ordinary_request_has_no_stop if {
	stops.active == set() with input as f.person
}

test_malicious_ip_on_sensitive_target_stops if {
	stops.active == {"stop.malicious_ip"} with input as f.on(_bad_ip, "payroll", "read")
}

test_malicious_ip_on_other_targets_does_not_stop if {
	stops.active == set() with input as f.on(_bad_ip, "intranet", "read")
}

test_impossible_travel_on_privileged_action_stops if {
	i := f.with_fields(f.person, {"geo": _jump, "session": f.passkey})
	stops.active == {"stop.impossible_travel"} with input as f.on(i, "payroll", "write")
	stops.active == set() with input as f.on(i, "payroll", "read")
}

test_travel_through_an_anonymizer_does_not_stop if {
	vpn := object.union(f.corporate, {"anonymizer": "vpn"})
	i := f.with_fields(f.person, {"geo": _jump, "session": f.passkey, "network": vpn})
	stops.active == set() with input as f.on(i, "payroll", "write")
}

test_shared_device_on_critical_target_stops if {
	stops.active == {"stop.shared_device"} with input as f.on(_kiosk, "admin-console", "admin")
}

test_shared_device_on_high_target_does_not_stop if {
	stops.active == set() with input as f.on(_kiosk, "admin-console", "read")
}

test_fail_unproven_device_on_critical_target_stops if {
	unattested := f.with_fields(f.person, {"device": object.union(f.laptop, {"attested": false})})
	stops.active == {"stop.unproven_device"} with input as f.on(unattested, "prod-secrets", "read")
	without := f.with_fields(f.person, {"device": null})
	stops.active == {"stop.unproven_device"} with input as f.on(without, "prod-secrets", "read")
}

test_success_proven_device_or_lower_tier_does_not_stop if {
	stops.active == set() with input as f.on(f.person, "prod-secrets", "read")
	unattested := f.with_fields(f.person, {"device": object.union(f.laptop, {"attested": false})})
	stops.active == set() with input as f.on(unattested, "payroll", "read")
	stops.active == set() with input as f.on(f.workload, "prod-secrets", "read")
}

test_risk_too_high if {
	# network 70 (capped) + device 45 (capped) + behaviour 30 = 145, beyond 130 for a standard target
	i := f.with_fields(f.person, {
		"network": object.union(f.corporate, {"reputation": "malicious", "anonymizer": "tor"}),
		"device": object.union(f.laptop, {"managed": false, "compliant": false, "encrypted": false}),
		"behavior": object.union(f.quiet, {"failed_attempts_recent": 12}),
	})
	stops.active == {"stop.risk_too_high"} with input as i
}

test_mfa_fatigue_stops_prompting if {
	tired := f.with_fields(f.person, {
		"behavior": object.union(f.quiet, {"prompts_recent": 5}),
		"session": object.union(f.mfa, {"auth_time": f.now - 90000}),
	})
	stops.active == {"stop.mfa_fatigue"} with input as tired
}

test_mfa_fatigue_does_not_block_a_satisfied_session if {
	stops.active == set() with input as f.with_fields(f.person, {"behavior": object.union(f.quiet, {"prompts_recent": 9})})
}

test_mfa_fatigue_below_threshold if {
	i := f.with_fields(f.person, {
		"behavior": object.union(f.quiet, {"prompts_recent": 4}),
		"session": object.union(f.mfa, {"auth_time": f.now - 90000}),
	})
	stops.active == set() with input as i
}

test_exception_lifts_only_the_stops_it_names if {
	ceo := {"id": "ceo@example.com", "kind": "human"}
	traveller := f.on(f.with_fields(f.person, {"subject": ceo, "geo": _jump, "session": f.passkey}), "payroll", "write")
	stops.raw == {"stop.impossible_travel"} with input as traveller
	stops.active == set() with input as traveller
	bad_ip := f.with_fields(traveller, {"network": object.union(f.corporate, {"reputation": "malicious"})})
	stops.active == {"stop.malicious_ip"} with input as bad_ip
}
