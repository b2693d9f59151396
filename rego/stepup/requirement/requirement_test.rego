package stepup.requirement_test

import data.stepup.requirement

_clean(app, action) := {
	"device": {"attested": true, "managed": true, "compliant": true},
	"network": {"zone": "corporate", "reputation": "good"},
	"target": {"app": app, "action": action},
}

test_baseline_for_each_tier if {
	requirement.required == {
		"kind": "session", "aal": "aal1", "phishing_resistant": false, "max_age": 2592000,
		"acr_values": ["http://idmanagement.gov/ns/assurance/aal/1"],
	} with input as _clean("intranet", "read")
	requirement.required.aal == "aal2" with input as _clean("wiki", "read")
	requirement.required.phishing_resistant with input as _clean("payroll", "read")
	requirement.required.max_age == 43200 with input as _clean("payroll", "read")
	requirement.required.aal == "aal3" with input as _clean("prod-secrets", "read")
}

test_risk_raises_the_baseline if {
	risky := object.union(_clean("intranet", "read"), {"network": {"zone": "external", "reputation": "suspicious"}})
	requirement.aal == 2 with input as risky
	requirement.max_age == 3600 with input as risky
	not requirement.phishing_resistant with input as risky
}

test_high_risk_asks_phishing_resistance_and_freshness if {
	risky := object.union(_clean("wiki", "read"), {"network": {"zone": "external", "reputation": "malicious"}})
	requirement.phishing_resistant with input as risky
	requirement.max_age == 900 with input as risky
	requirement.required.acr_values == [
		"http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true",
		"phr",
	] with input as risky
}

test_risk_never_lowers_a_critical_baseline if {
	risky := object.union(_clean("prod-secrets", "read"), {"network": {"zone": "external", "reputation": "suspicious"}})
	requirement.aal == 3 with input as risky
	requirement.phishing_resistant with input as risky
	requirement.max_age == 3600 with input as risky
}
