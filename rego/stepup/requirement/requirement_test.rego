package stepup.requirement_test

import data.stepup.fixtures_test as f
import data.stepup.requirement

_suspicious := f.with_fields(f.person, {"network": object.union(f.corporate, {"reputation": "suspicious"})})

_malicious := f.with_fields(f.person, {"network": object.union(f.corporate, {"reputation": "malicious"})})

test_baseline_for_each_tier if {
	requirement.required == {
		"kind": "session", "aal": "aal1", "phishing_resistant": false, "max_age": 2592000,
		"acr_values": ["http://idmanagement.gov/ns/assurance/aal/1"],
	} with input as f.on(f.person, "intranet", "read")
	requirement.required.aal == "aal2" with input as f.person
	requirement.required.max_age == 86400 with input as f.person
	requirement.required.phishing_resistant with input as f.on(f.person, "payroll", "read")
	requirement.required.max_age == 43200 with input as f.on(f.person, "payroll", "read")
	requirement.required.aal == "aal3" with input as f.on(f.person, "prod-secrets", "read")
}

test_medium_risk_asks_for_two_factors_within_an_hour if {
	requirement.aal == 2 with input as f.on(_suspicious, "wiki", "read")
	requirement.max_age == 3600 with input as f.on(_suspicious, "wiki", "read")
	not requirement.phishing_resistant with input as f.on(_suspicious, "wiki", "read")
}

test_high_risk_asks_for_phishing_resistance_and_freshness if {
	requirement.phishing_resistant with input as _malicious
	requirement.max_age == 900 with input as _malicious
	requirement.required.acr_values == [
		"http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true",
		"phr",
	] with input as _malicious
}

test_risk_never_lowers_a_critical_baseline if {
	i := f.on(_suspicious, "prod-secrets", "read")
	requirement.aal == 3 with input as i
	requirement.phishing_resistant with input as i
	requirement.max_age == 3600 with input as i
}

test_acr_values_are_data if {
	requirement.required.acr_values == ["silver"] with input as f.person
		with data.stepup.config.assurance.acr_values.aal2.any as ["silver"]
}
