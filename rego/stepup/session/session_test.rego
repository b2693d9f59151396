package stepup.session_test

import data.stepup.fixtures_test as f
import data.stepup.session

_with_session(s) := f.with_fields(f.person, {"session": s})

_at(s, app) := f.on(_with_session(s), app, "read")

test_acr_sets_the_level if {
	session.aal == 2 with input as f.person
	not session.is_phishing_resistant with input as f.person
}

test_unknown_acr_counts_as_nothing if {
	session.aal == 0 with input as _with_session({"acr": "gold", "amr": null, "auth_time": f.now})
}

test_amr_can_prove_phishing_resistance if {
	s := object.union(f.mfa, {"amr": ["hwk"]})
	session.is_phishing_resistant with input as _with_session(s)
	session.aal == 2 with input as _with_session(s)
}

test_acr_mapping_is_data if {
	session.aal == 3 with input as _with_session(object.union(f.mfa, {"acr": "gold"}))
		with data.stepup.config.assurance.acr.gold as {"aal": 3, "phishing_resistant": true}
}

test_fresh_mfa_meets_standard_target if {
	session.satisfies with input as f.person
	session.gaps == set() with input as f.person
}

test_missing_session if {
	session.gaps == {"session.missing"} with input as _with_session(null)
	not session.satisfies with input as _with_session(null)
}

test_low_assurance if {
	s := {"acr": "http://idmanagement.gov/ns/assurance/aal/1", "amr": ["pwd"], "auth_time": f.now - 60}
	session.gaps == {"session.aal_insufficient"} with input as _with_session(s)
}

test_phishing_resistance_required_on_high_target if {
	session.gaps == {"session.not_phishing_resistant"} with input as _at(f.mfa, "payroll")
}

test_old_authentication if {
	s := object.union(f.mfa, {"auth_time": f.now - 86401})
	session.gaps == {"session.too_old"} with input as _with_session(s)
	session.age == 86401 with input as _with_session(s)
}

test_age_exactly_max_age_is_fresh if {
	session.satisfies with input as _with_session(object.union(f.mfa, {"auth_time": f.now - 86400}))
}

test_auth_time_in_the_future_beyond_skew if {
	s := object.union(f.mfa, {"auth_time": f.now + 301})
	session.gaps == {"session.auth_time_invalid"} with input as _with_session(s)
}

test_auth_time_within_skew_counts_as_now if {
	s := object.union(f.mfa, {"auth_time": f.now + 300})
	session.satisfies with input as _with_session(s)
	session.age == 0 with input as _with_session(s)
}

test_missing_auth_time if {
	s := object.union(f.mfa, {"auth_time": null})
	session.gaps == {"session.auth_time_invalid"} with input as _with_session(s)
}

test_exception_relaxes_named_gaps_only if {
	i := f.with_fields(
		_at({"acr": "http://idmanagement.gov/ns/assurance/aal/1", "amr": ["pwd"], "auth_time": f.now - 60}, "payroll"),
		{"subject": {"id": "breakglass-1@example.com", "kind": "human"}},
	)
	session.raw_gaps == {"session.aal_insufficient", "session.not_phishing_resistant"} with input as i
	session.gaps == set() with input as i
	session.satisfies with input as i
}

test_amr_can_raise_the_level_above_the_acr if {
	session.aal == 3 with input as _with_session({"acr": "gold", "amr": ["hwk", "pin"], "auth_time": f.now})
}

_amr(methods) := _with_session({"acr": null, "amr": methods, "auth_time": f.now})

test_success_two_distinct_factors_are_two_factor_authentication if {
	session.aal == 2 with input as _amr(["pwd", "otp"])
	session.aal == 2 with input as _amr(["pwd", "sms"])
	session.aal == 3 with input as _amr(["pwd", "hwk"])
	session.aal == 2 with input as _amr(["pin", "fpt"])
	session.aal == 2 with input as _amr(["mfa"])
}

test_fail_one_factor_however_many_methods if {
	session.aal == 1 with input as _amr(["pwd"])
	session.aal == 1 with input as _amr(["pwd", "pin", "kba"])
	session.aal == 1 with input as _amr(["otp", "sms"])
	session.aal == 1 with input as _amr(["hwk"])
	session.aal == 0 with input as _amr(["geo", "rba", "user"])
}

test_fail_phishing_resistance_only_from_methods_bound_to_the_site if {
	not session.is_phishing_resistant with input as _amr(["pwd", "otp"])
	not session.is_phishing_resistant with input as _amr(["swk", "pin"])
	session.is_phishing_resistant with input as _amr(["hwk", "user"])
	session.is_phishing_resistant with input as _amr(["sc", "pin"])
}

_privileged(granted, auth_time) := f.on(
	f.with_fields(f.person, {
		"subject": object.union(f.person.subject, {"privilege_granted_at": granted}),
		"session": object.union(f.mfa, {"auth_time": auth_time}),
	}),
	"ci", "deploy",
)

test_fail_privilege_granted_after_the_login if {
	session.raw_gaps["session.predates_privilege"] with input as _privileged(f.now - 600, f.now - 3600)
}

test_success_privilege_granted_before_the_login if {
	not session.raw_gaps["session.predates_privilege"] with input as _privileged(f.now - 7200, f.now - 3600)
	not session.raw_gaps["session.predates_privilege"] with input as _privileged(null, f.now - 3600)
	not session.raw_gaps["session.predates_privilege"] with input as f.on(
		f.with_fields(f.person, {"subject": object.union(f.person.subject, {"privilege_granted_at": f.now - 600})}),
		"wiki", "read",
	)
}
