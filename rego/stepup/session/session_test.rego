package stepup.session_test

import data.stepup.session

_now := 1795852800

_input(sess, app) := {
	"now": _now,
	"session": sess,
	"device": {"attested": true, "managed": true, "compliant": true, "kind": "laptop"},
	"network": {"zone": "corporate", "reputation": "good"},
	"target": {"app": app, "action": "read"},
}

_mfa := {"acr": "http://idmanagement.gov/ns/assurance/aal/2", "amr": ["pwd", "otp"], "auth_time": _now - 3600}

test_acr_sets_the_level if {
	session.aal == 2 with input as _input(_mfa, "wiki")
	not session.is_phishing_resistant with input as _input(_mfa, "wiki")
}

test_unknown_acr_counts_as_nothing if {
	session.aal == 0 with input as _input({"acr": "gold", "amr": null, "auth_time": _now}, "wiki")
}

test_amr_can_prove_phishing_resistance if {
	s := object.union(_mfa, {"amr": ["hwk"]})
	session.is_phishing_resistant with input as _input(s, "wiki")
	session.aal == 2 with input as _input(s, "wiki")
}

test_acr_mapping_is_data if {
	session.aal == 3 with input as _input(object.union(_mfa, {"acr": "gold"}), "wiki")
		with data.stepup.config.assurance.acr.gold as {"aal": 3, "phishing_resistant": true}
}

test_fresh_mfa_meets_standard_target if {
	session.satisfies with input as _input(_mfa, "wiki")
	session.gaps == set() with input as _input(_mfa, "wiki")
}

test_missing_session if {
	session.gaps == {"session.missing"} with input as _input(null, "wiki")
	not session.satisfies with input as _input(null, "wiki")
}

test_low_assurance if {
	s := {"acr": "http://idmanagement.gov/ns/assurance/aal/1", "amr": ["pwd"], "auth_time": _now - 60}
	session.gaps == {"session.aal_insufficient"} with input as _input(s, "wiki")
}

test_phishing_resistance_required_on_high_target if {
	session.gaps == {"session.not_phishing_resistant"} with input as _input(_mfa, "payroll")
}

test_old_authentication if {
	s := object.union(_mfa, {"auth_time": _now - 86401})
	session.gaps == {"session.too_old"} with input as _input(s, "wiki")
	session.age == 86401 with input as _input(s, "wiki")
}

test_age_exactly_max_age_is_fresh if {
	s := object.union(_mfa, {"auth_time": _now - 86400})
	session.satisfies with input as _input(s, "wiki")
}

test_auth_time_in_the_future_beyond_skew if {
	s := object.union(_mfa, {"auth_time": _now + 301})
	session.gaps == {"session.auth_time_invalid"} with input as _input(s, "wiki")
}

test_auth_time_within_skew_is_accepted if {
	s := object.union(_mfa, {"auth_time": _now + 300})
	session.satisfies with input as _input(s, "wiki")
}

test_missing_auth_time if {
	s := object.union(_mfa, {"auth_time": null})
	session.gaps == {"session.auth_time_invalid"} with input as _input(s, "wiki")
}
