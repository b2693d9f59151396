package stepup.workload_test

import data.stepup.fixtures_test as f
import data.stepup.workload

_cred(fields) := f.with_fields(f.workload, {"credential": object.union(f.svid, fields)})

test_short_lived_svid_meets_every_tier if {
	workload.satisfies with input as f.workload
	workload.satisfies with input as f.on(f.workload, "prod-secrets", "read")
	workload.required == {
		"kind": "workload", "proof": ["spiffe_svid", "mtls"], "max_lifetime": 3600,
		"storage": ["secrets_manager", "workload_api"], "missing": [],
	} with input as f.on(f.workload, "prod-secrets", "read")
}

test_no_credential if {
	workload.gaps == {"credential.missing"} with input as f.with_fields(f.workload, {"credential": null})
}

test_type_accepted_per_tier if {
	oidc := _cred({"type": "oidc_federated", "spiffe_id": null})
	workload.gaps == set() with input as f.on(oidc, "payroll", "read")
	workload.gaps == {"credential.type_not_accepted"} with input as f.on(oidc, "prod-secrets", "read")
}

test_expired_credential if {
	workload.gaps == {"credential.expired"} with input as _cred({"expires_at": f.now})
}

test_lifetime_ceiling_per_tier if {
	day := _cred({"issued_at": f.now - 43200, "expires_at": f.now + 43200})
	workload.gaps == set() with input as f.on(day, "payroll", "read")
	workload.gaps == {"credential.lifetime_exceeded"} with input as f.on(day, "prod-secrets", "read")
}

test_fail_without_issue_time_the_lifetime_is_unknown_and_counts_as_too_long if {
	# Leaving the issue time out must not look better than the longest lifetime.
	short := _cred({"issued_at": null, "expires_at": f.now + 3000})
	workload.gaps == {"credential.lifetime_exceeded"} with input as f.on(short, "prod-secrets", "read")
}

test_static_key_that_never_expires if {
	key := _cred({
		"type": "static_api_key", "issued_at": f.now - 86400, "expires_at": null,
		"storage": "code", "spiffe_id": null,
	})
	workload.gaps == {
		"credential.type_not_accepted",
		"credential.lifetime_exceeded",
		"credential.insecure_storage",
	} with input as f.on(key, "payroll", "read")
}

test_static_key_in_a_secrets_manager_on_a_low_target_is_accepted if {
	key := _cred({
		"type": "static_api_key", "issued_at": f.now - 86400, "expires_at": f.now + 86400,
		"storage": "secrets_manager", "spiffe_id": null,
	})
	workload.gaps == set() with input as f.on(key, "intranet", "read")
}

test_insecure_storage_on_sensitive_targets if {
	for_ci := _cred({"storage": "ci"})
	workload.gaps == set() with input as f.on(for_ci, "intranet", "read")
	workload.gaps == {"credential.insecure_storage"} with input as f.on(for_ci, "payroll", "read")
	in_config := _cred({"storage": "config_file"})
	workload.gaps == {"credential.insecure_storage"} with input as f.on(in_config, "prod-secrets", "read")
}

test_unknown_storage_only_below_sensitive_tiers if {
	unknown := _cred({"storage": null})
	workload.gaps == set() with input as unknown
	workload.gaps == {"credential.insecure_storage"} with input as f.on(unknown, "payroll", "read")
}

test_spiffe_trust_domain if {
	workload.gaps == {"credential.spiffe_untrusted"} with input as _cred({"spiffe_id": "spiffe://evil.test/billing"})
	workload.gaps == {"credential.spiffe_untrusted"} with input as _cred({"spiffe_id": null})
}

test_missing_lists_what_is_lacking if {
	workload.required.missing == ["credential.expired", "credential.spiffe_untrusted"] with input as _cred({
		"expires_at": f.now - 1,
		"spiffe_id": "spiffe://evil.test/x",
	})
}

test_exception_relaxes_named_credential_gaps_only if {
	pilot := {"pilot": {
		"kind": "supplier", "subjects": {"svc-billing": true}, "apps": {"wiki": true},
		"relaxes": ["credential.insecure_storage"], "expires_at": f.now + 60,
		"approver": "test", "reason": "test",
	}}
	service := f.with_fields(f.workload, {
		"subject": {"id": "svc-billing", "kind": "service"},
		"credential": object.union(f.svid, {"storage": "code", "expires_at": f.now - 1}),
	})
	workload.gaps == {"credential.expired"} with input as service with data.stepup.config.exceptions as pilot
	workload.gaps == {"credential.expired", "credential.insecure_storage"} with input as service
}
