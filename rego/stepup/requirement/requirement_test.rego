package stepup.requirement_test

import data.stepup.fixtures_test as f
import data.stepup.requirement

_suspicious := f.with_fields(f.person, {"network": object.union(f.corporate, {"reputation": "suspicious"})})

# Medium risk with nothing that suggests another actor: an unmanaged device outside the office.
_medium := f.with_fields(f.person, {
	"network": object.union(f.corporate, {"zone": "external"}),
	"device": object.union(f.laptop, {"managed": false}),
})

# High risk with nothing that suggests another actor: no posture statement, outside the office.
_high := f.with_fields(f.person, {
	"network": object.union(f.corporate, {"zone": "external"}),
	"device": object.union(f.laptop, {"attested": false}),
})

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

test_medium_risk_asks_for_two_factors if {
	requirement.aal == 2 with input as _medium
	requirement.max_age == 86400 with input as _medium
	not requirement.phishing_resistant with input as _medium
}

test_high_risk_asks_for_phishing_resistance if {
	requirement.phishing_resistant with input as _high
	requirement.max_age == 43200 with input as _high
	not requirement.is_another_actor with input as _high
}

test_fail_another_actor_asks_for_fresh_phishing_resistant_proof if {
	requirement.is_another_actor with input as _suspicious
	requirement.phishing_resistant with input as _suspicious
	requirement.max_age == 900 with input as _suspicious
	requirement.required.acr_values == [
		"http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true",
		"phr",
	] with input as _suspicious
}

test_fail_unfamiliar_context_is_another_actor if {
	i := f.with_fields(f.person, {"familiarity": {"history": 40, "novelty": 900, "unfamiliar": ["asn", "device"]}})
	requirement.is_another_actor with input as i
	requirement.max_age == 900 with input as i
}

test_risk_never_lowers_a_critical_baseline if {
	i := f.on(_suspicious, "prod-secrets", "read")
	requirement.aal == 3 with input as i
	requirement.phishing_resistant with input as i
	requirement.max_age == 900 with input as i
}

test_fail_privilege_granted_after_the_login_bounds_the_age if {
	granted := object.union(f.person.subject, {"privilege_granted_at": f.now - 600})
	i := f.on(f.with_fields(f.person, {"subject": granted}), "ci", "deploy")
	requirement.max_age == 600 with input as i
	requirement.max_age == 43200 with input as f.on(f.person, "ci", "deploy")
}

test_acr_values_are_data if {
	requirement.required.acr_values == ["silver"] with input as f.person
		with data.stepup.config.assurance.acr_values.aal2.any as ["silver"]
}
