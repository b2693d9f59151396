package stepup.device_test

import data.stepup.device

_healthy := {
	"attested": true, "managed": true, "compliant": true, "encrypted": true,
	"edr_running": true, "os_patch_age_days": 5, "kind": "laptop",
}

_with(fields) := {"device": object.union(_healthy, fields), "target": {"app": "wiki", "action": "read"}}

test_healthy_device_has_no_signals if {
	device.signals == set() with input as _with({})
}

test_missing_device_is_unknown if {
	device.signals == {"device.unknown"} with input as {"device": null, "target": {"app": "wiki", "action": "read"}}
}

test_unverified_posture_is_unattested if {
	device.signals == {"device.unattested"} with input as _with({
		"attested": false, "managed": null, "compliant": null, "encrypted": null,
		"edr_running": null, "os_patch_age_days": null, "kind": null,
	})
}

test_fail_unverified_posture_is_not_trusted_for_what_it_claims if {
	device.signals == {"device.unattested"} with input as _with({"attested": false})
	not device.is_attested with input as _with({"attested": false})
}

test_fail_fields_a_verified_statement_leaves_out_count_as_unhealthy if {
	device.signals == {
		"device.unmanaged", "device.noncompliant", "device.unencrypted",
		"device.edr_missing", "device.patch_very_stale", "device.shared",
	} with input as _with({
		"managed": null, "compliant": null, "encrypted": null,
		"edr_running": null, "os_patch_age_days": null, "kind": null,
	})
}

test_unmanaged if {
	device.signals == {"device.unmanaged"} with input as _with({"managed": false})
}

test_noncompliant if {
	device.signals == {"device.noncompliant"} with input as _with({"compliant": false})
}

test_unencrypted if {
	device.signals == {"device.unencrypted"} with input as _with({"encrypted": false})
}

test_edr_missing if {
	device.signals == {"device.edr_missing"} with input as _with({"edr_running": false})
}

test_patch_age_thresholds if {
	device.signals == set() with input as _with({"os_patch_age_days": 30})
	device.signals == {"device.patch_stale"} with input as _with({"os_patch_age_days": 31})
	device.signals == {"device.patch_stale"} with input as _with({"os_patch_age_days": 90})
	device.signals == {"device.patch_very_stale"} with input as _with({"os_patch_age_days": 91})
}

test_patch_thresholds_are_data if {
	device.signals == {"device.patch_stale"} with input as _with({"os_patch_age_days": 8})
		with data.stepup.config.device.patch_stale_days as 7
}

test_shared_device_counts_above_low_targets if {
	device.signals == {"device.shared"} with input as _with({"kind": "shared"})
}

test_shared_device_is_not_counted_on_low_targets if {
	device.signals == set() with input as {
		"device": object.union(_healthy, {"kind": "shared"}),
		"target": {"app": "intranet", "action": "read"},
	}
}
