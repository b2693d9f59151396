package stepup_test

import data.stepup

_now := 1795852800

_base := {
	"now": _now,
	"subject": {"id": "alice", "kind": "human"},
	"session": {"acr": "http://idmanagement.gov/ns/assurance/aal/2", "amr": ["pwd", "otp"], "auth_time": _now - 3600},
	"device": {"attested": true, "managed": true, "compliant": true, "kind": "laptop"},
	"network": {"zone": "corporate", "reputation": "good"},
	"target": {"app": "wiki", "action": "read"},
}

test_allow_carries_the_whole_document if {
	d := stepup.decision with input as _base
	d.outcome == "allow"
	d.tier == "standard"
	d.risk == {"score": 0, "level": "low", "groups": {"device": 0, "network": 0}, "contributions": {}}
	d.requirement == {
		"kind": "session", "aal": "aal2", "phishing_resistant": false, "max_age": 86400,
		"acr_values": ["http://idmanagement.gov/ns/assurance/aal/2"],
	}
	d.satisfied == true
	count(d.reasons) == 0
	count(d.obligations) == 0
	count(d.exceptions) == 0
	d.policy_version == "1.0.0"
}

test_step_up_names_what_is_missing if {
	d := stepup.decision with input as object.union(_base, {"target": {"app": "payroll", "action": "read"}})
	d.outcome == "step_up"
	d.reasons == {"session.not_phishing_resistant"}
	not d.satisfied
}

test_deny_on_hard_stop_even_with_a_good_session if {
	i := object.union(_base, {
		"session": {"acr": "phrh", "amr": ["hwk"], "auth_time": _now - 60},
		"network": {"zone": "external", "reputation": "malicious"},
		"target": {"app": "payroll", "action": "read"},
	})
	d := stepup.decision with input as i
	d.outcome == "deny"
	"stop.malicious_ip" in d.reasons
	d.satisfied
}

test_elevated_risk_is_a_reason if {
	i := object.union(_base, {
		"network": {"zone": "external", "reputation": "suspicious"},
		"session": {"auth_time": _now - 7200},
	})
	d := stepup.decision with input as i
	d.outcome == "step_up"
	d.reasons == {"risk.elevated", "session.too_old"}
	d.risk.contributions == {"network.external": 5, "network.suspicious": 25}
}

test_unknown_app_is_a_reason if {
	d := stepup.decision with input as object.union(_base, {"target": {"app": "nope", "action": "read"}})
	d.tier == "high"
	"target.unknown_app" in d.reasons
}
