package stepup_test

import data.stepup
import data.stepup.fixtures_test as f

test_allow_carries_the_whole_document if {
	d := stepup.decision with input as f.person
	d.outcome == "allow"
	d.tier == "standard"
	d.risk.score == 0
	d.risk.level == "low"
	d.risk.groups == {"device": 0, "network": 0, "geo": 0, "behavior": 0}
	d.risk.contributions == {}
	d.requirement == {
		"kind": "session", "aal": "aal2", "phishing_resistant": false, "max_age": 86400,
		"acr_values": ["http://idmanagement.gov/ns/assurance/aal/2"],
	}
	d.satisfied == true
	count(d.reasons) == 0
	count(d.obligations) == 0
	d.exceptions == []
	d.policy_version == "2.0.0"
}

test_step_up_names_what_is_missing if {
	d := stepup.decision with input as f.on(f.person, "payroll", "read")
	d.outcome == "step_up"
	d.reasons == {"session.not_phishing_resistant"}
	not d.satisfied
}

test_deny_on_hard_stop_even_with_a_good_session if {
	bad_ip := object.union(f.corporate, {"reputation": "malicious"})
	i := f.on(f.with_fields(f.person, {"session": f.passkey, "network": bad_ip}), "payroll", "read")
	d := stepup.decision with input as i
	d.outcome == "deny"
	d.reasons == {"stop.malicious_ip", "risk.elevated"}
	d.obligations == {"notify_security"}
	d.satisfied
}

test_elevated_risk_is_a_reason if {
	i := f.with_fields(f.person, {
		"network": object.union(f.corporate, {"zone": "external", "reputation": "suspicious"}),
		"session": object.union(f.mfa, {"auth_time": f.now - 7200}),
	})
	d := stepup.decision with input as i
	d.outcome == "step_up"
	d.reasons == {"risk.elevated", "session.not_phishing_resistant", "session.too_old"}
	d.risk.contributions == {"network.external": 5, "network.suspicious": 25}
}

test_unknown_app_is_a_reason if {
	d := stepup.decision with input as f.on(f.person, "nope", "read")
	d.tier == "high"
	"target.unknown_app" in d.reasons
}

test_mfa_fatigue_denies_instead_of_prompting if {
	i := f.with_fields(f.person, {
		"behavior": object.union(f.quiet, {"prompts_recent": 6}),
		"session": object.union(f.mfa, {"auth_time": f.now - 90000}),
	})
	d := stepup.decision with input as i
	d.outcome == "deny"
	d.reasons == {"stop.mfa_fatigue", "session.too_old"}
	d.obligations == {"notify_security"}
}

test_workloads_are_never_prompted if {
	expired := f.with_fields(f.workload, {"credential": object.union(f.svid, {"expires_at": f.now - 1})})
	d := stepup.decision with input as expired
	d.outcome == "deny"
	d.requirement.kind == "workload"
	d.requirement.missing == ["credential.expired"]
	d.reasons == {"credential.expired"}
}

test_workload_with_proof_is_allowed if {
	d := stepup.decision with input as f.on(f.workload, "prod-secrets", "read")
	d.outcome == "allow"
	d.satisfied
	d.risk.groups == {"network": 0}
}

test_services_are_judged_like_workloads if {
	service := f.with_fields(f.workload, {"subject": {"id": "svc-billing", "kind": "service"}, "credential": null})
	d := stepup.decision with input as service
	d.outcome == "deny"
	d.reasons == {"credential.missing"}
}

test_supplier_exception_is_logged_and_scoped if {
	supplier := f.with_fields(f.person, {
		"subject": {"id": "dev1@acme.example", "kind": "human"},
		"device": object.union(f.laptop, {"managed": false}),
	})
	d := stepup.decision with input as f.on(supplier, "ci", "read")
	d.outcome == "allow"
	d.obligations == {"log_for_review"}
	d.reasons == {"exception.applied"}
	d.exceptions == [{
		"id": "supplier-acme", "kind": "supplier", "expires_at": 1798761600,
		"approver": "vendor-manager@example.com", "relaxed": ["device.unmanaged"],
	}]

	outside := stepup.decision with input as f.on(supplier, "crm", "read")
	outside.exceptions == []
	outside.risk.contributions == {"device.unmanaged": 20}
}

test_break_glass_notifies_security if {
	glass := f.with_fields(f.person, {
		"subject": {"id": "breakglass-1@example.com", "kind": "human"},
		"session": {"acr": "http://idmanagement.gov/ns/assurance/aal/1", "amr": ["pwd"], "auth_time": f.now - 60},
	})
	d := stepup.decision with input as f.on(glass, "prod-secrets", "read")
	d.outcome == "allow"
	d.obligations == {"log_for_review", "notify_security"}
	d.exceptions[0].relaxed == ["session.aal_insufficient", "session.not_phishing_resistant"]

	# Freshness is not among what it relaxes: a password from yesterday is still too old.
	stale := object.union(glass, {"session": object.union(glass.session, {"auth_time": f.now - 86400})})
	s := stepup.decision with input as f.on(stale, "prod-secrets", "read")
	s.outcome == "step_up"
	s.reasons == {"exception.applied", "session.too_old", "target.privileged_action"}
}

test_expired_exception_changes_nothing if {
	former := f.with_fields(f.person, {
		"subject": {"id": "dev@oldvendor.example", "kind": "human"},
		"device": object.union(f.laptop, {"managed": false}),
	})
	d := stepup.decision with input as former
	d.exceptions == []
	d.obligations == set()
	d.risk.contributions == {"device.unmanaged": 20}
}

# What the SDK sends for a caller that left out everything it may: unknowns filled in as null.
_sparse := {
	"now": f.now,
	"subject": {"id": "alice@example.com", "kind": "human"},
	"session": f.mfa,
	"target": {"app": "wiki", "action": "read"},
}

test_omitted_fields_decide_as_unknown_ones if {
	filled := object.union(_sparse, {
		"version": 1,
		"subject": {"roles": [], "groups": [], "tags": [], "privilege_granted_at": null},
		"credential": null, "device": null,
		"network": {"ip": null, "zone": null, "reputation": null, "anonymizer": null, "asn": null},
		"geo": null, "behavior": null, "familiarity": null,
		"target": {"resource": null},
	})
	d := stepup.decision with input as _sparse
	d == stepup.decision with input as filled
	d.risk.contributions["device.unknown"] == 45
	d.risk.contributions["network.unknown"] == 10
}

test_a_document_that_breaks_the_contract_is_refused_naming_the_fields if {
	robot := {
		"now": f.now, "subject": {"id": "r2", "kind": "robot"}, "credential": {}, "x": 1,
		"target": {"app": "prod-secrets", "action": "write"},
	}
	d := stepup.decision with input as robot
	d == {
		"outcome": "deny",
		"tier": "critical",
		"risk": {"score": 0, "level": "low", "groups": {}, "contributions": {}},
		"requirement": {"kind": "workload", "proof": [], "max_lifetime": 0, "storage": [], "missing": ["input.invalid"]},
		"satisfied": false,
		"reasons": ["input.invalid"],
		"obligations": [],
		"exceptions": [],
		"policy_version": "2.0.0",
		"invalid_fields": ["credential.type", "subject.kind", "x"],
	}
}

test_a_person_refused_gets_a_requirement_no_session_meets if {
	d := stepup.decision with input as f.with_fields(f.person, {"now": "tomorrow"})
	d.outcome == "deny"
	d.invalid_fields == ["now"]
	d.requirement == {"kind": "session", "aal": "aal3", "phishing_resistant": true, "max_age": 0, "acr_values": []}
	stepup.decision.invalid_fields == [""] with input as "not a document"
}
