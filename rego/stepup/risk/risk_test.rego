package stepup.risk_test

import data.stepup.fixtures_test as f
import data.stepup.risk

_unmanaged := object.union(f.laptop, {"managed": false})

test_no_signals_is_low if {
	risk.score == 0 with input as f.person
	risk.level == "low" with input as f.person
	risk.contributions == {} with input as f.person
	risk.notes == set() with input as f.person
}

test_contributions_add_up if {
	i := f.with_fields(f.person, {"device": _unmanaged, "network": object.union(f.corporate, {"zone": "external"})})
	risk.contributions == {"device.unmanaged": 20, "network.external": 5} with input as i
	risk.score == 25 with input as i
	risk.level == "medium" with input as i
	risk.notes == {"risk.elevated"} with input as i
}

test_group_cap_limits_points if {
	neglected := object.union(f.laptop, {"managed": false, "compliant": false, "encrypted": false})
	i := f.with_fields(f.person, {"device": neglected})
	risk.contributions == {"device.unmanaged": 20, "device.noncompliant": 20, "device.unencrypted": 15} with input as i
	risk.groups.device == 45 with input as i
	risk.score == 45 with input as i
}

test_thresholds_depend_on_the_tier if {
	i := f.with_fields(f.person, {"network": object.union(f.corporate, {"reputation": "suspicious"})})
	risk.level == "low" with input as f.on(i, "intranet", "read")
	risk.level == "medium" with input as i
	risk.level == "medium" with input as f.on(i, "payroll", "read")
	risk.level == "medium" with input as f.on(i, "prod-secrets", "read")
}

test_levels_follow_thresholds if {
	bad_ip := f.with_fields(f.person, {"network": object.union(f.corporate, {"reputation": "malicious"})})
	risk.level == "high" with input as bad_ip
	worse := f.with_fields(bad_ip, {"device": object.union(_unmanaged, {"compliant": false})})
	risk.level == "critical" with input as worse
}

test_thresholds_are_data if {
	i := f.with_fields(f.person, {"network": object.union(f.corporate, {"zone": "external"})})
	risk.level == "medium" with input as i
		with data.stepup.config.thresholds.standard as {"medium": 5, "high": 50, "critical": 80}
}

test_workloads_are_scored_on_their_network_only if {
	i := f.with_fields(f.workload, {"network": object.union(f.corporate, {"zone": "external"})})
	risk.contributions == {"network.external": 5} with input as i
	risk.groups == {"network": 5} with input as i
}

test_relaxed_signals_do_not_count if {
	i := f.on(
		f.with_fields(f.person, {"subject": {"id": "dev1@acme.example", "kind": "human"}, "device": _unmanaged}),
		"ci", "read",
	)
	risk.raw_codes == {"device.unmanaged"} with input as i
	risk.contributions == {} with input as i
	risk.score == 0 with input as i
}

test_every_group_contributes if {
	i := f.with_fields(f.person, {
		"geo": {
			"country": "JP", "accuracy_km": 20, "distance_km": 9700,
			"previous": {"country": "FR", "accuracy_km": 20, "time": f.now - 3600, "anonymized": false},
		},
		"familiarity": {"history": 40, "novelty": 900, "unfamiliar": ["device", "country"]},
	})
	risk.contributions == {"geo.impossible_travel": 40, "behavior.unfamiliar_context": 30} with input as i
	risk.groups == {"device": 0, "network": 0, "geo": 40, "behavior": 30} with input as i
	risk.score == 70 with input as i
}

test_raw_codes_of_a_workload_are_its_network_signals if {
	i := f.with_fields(f.workload, {"network": object.union(f.corporate, {"zone": "external"})})
	risk.raw_codes == {"network.external"} with input as i
}
