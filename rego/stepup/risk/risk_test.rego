package stepup.risk_test

import data.stepup.risk

_clean := {
	"device": {"attested": true, "managed": true, "compliant": true},
	"network": {"zone": "corporate", "reputation": "good"},
}

test_no_signals_is_low if {
	risk.score == 0 with input as _clean
	risk.level == "low" with input as _clean
	risk.contributions == {} with input as _clean
}

test_contributions_list_every_signal if {
	i := {
		"device": {"attested": true, "managed": false, "compliant": true},
		"network": {"zone": "external", "reputation": "good"},
	}
	risk.contributions == {"device.unmanaged": 20, "network.external": 5} with input as i
	risk.score == 25 with input as i
	risk.level == "medium" with input as i
}

test_group_cap_limits_points if {
	i := {
		"device": {"attested": false, "managed": false, "compliant": false},
		"network": {"zone": "corporate", "reputation": "good"},
	}
	risk.groups.device == 40 with input as i
	risk.score == 40 with input as i
	risk.contributions == {"device.unattested": 10, "device.unmanaged": 20, "device.noncompliant": 20} with input as i
}

test_levels_follow_thresholds if {
	risk.level == "high" with input as object.union(_clean, {"network": {"zone": "external", "reputation": "malicious"}})
	risk.level == "critical" with input as {
		"device": {"attested": false, "managed": false, "compliant": false},
		"network": {"zone": "external", "reputation": "malicious"},
	}
}

test_thresholds_are_data if {
	risk.level == "medium" with input as object.union(_clean, {"network": {"zone": "external", "reputation": "good"}})
		with data.stepup.config.thresholds as {"medium": 5, "high": 50, "critical": 80}
}
