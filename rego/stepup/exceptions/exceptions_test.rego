package stepup.exceptions_test

import data.stepup.exceptions
import data.stepup.fixtures_test as f

_as(id, app) := f.on(f.with_fields(f.person, {"subject": {"id": id, "kind": "human"}}), app, "read")

test_no_exception_for_ordinary_subjects if {
	not exceptions.applies with input as f.person
	exceptions.relaxes == set() with input as f.person
	exceptions.notes == set() with input as f.person
}

test_exception_applies_to_its_subjects_and_apps if {
	exceptions.applies with input as _as("dev1@acme.example", "ci")
	device_codes := {"device.unmanaged", "device.unattested", "device.unknown"}
	exceptions.relaxes == device_codes with input as _as("dev2@acme.example", "wiki")
	exceptions.notes == {"exception.applied"} with input as _as("dev2@acme.example", "wiki")
}

test_exception_never_applies_outside_its_apps if {
	not exceptions.applies with input as _as("dev1@acme.example", "payroll")
}

test_wildcard_covers_every_app if {
	exceptions.applies with input as _as("ceo@example.com", "prod-secrets")
}

test_expired_exception_changes_nothing if {
	not exceptions.applies with input as _as("dev@oldvendor.example", "wiki")
	exceptions.relaxes == set() with input as _as("dev@oldvendor.example", "wiki")
}

test_exception_expires_at_its_expiry if {
	at_expiry := f.with_fields(_as("ceo@example.com", "wiki"), {"now": 1796601600})
	not exceptions.applies with input as at_expiry
	exceptions.applies with input as f.with_fields(_as("ceo@example.com", "wiki"), {"now": 1796601599})
}

test_break_glass if {
	exceptions.is_break_glass with input as _as("breakglass-1@example.com", "payroll")
	not exceptions.is_break_glass with input as _as("ceo@example.com", "payroll")
}

test_applied_lists_only_what_was_relaxed if {
	exceptions.applied({"device.unmanaged", "network.external"}) == [{
		"id": "supplier-acme", "kind": "supplier", "expires_at": 1798761600,
		"approver": "vendor-manager@example.com", "relaxed": ["device.unmanaged"],
	}] with input as _as("dev1@acme.example", "ci")
}

# The bundle's index: scoping follows it, and an exception it does not list for the subject is not
# applied (an index can only make the policy stricter); without the index every exception is tested.
test_exception_index_is_followed if {
	index := {"dev1@acme.example": {"supplier-acme": true}, "ceo@example.com": {}}
	exceptions.applies with input as _as("dev1@acme.example", "ci") with data.stepup.exception_index as index
	not exceptions.applies with input as _as("dev2@acme.example", "wiki") with data.stepup.exception_index as index
	not exceptions.applies with input as _as("ceo@example.com", "prod-secrets") with data.stepup.exception_index as index
	exceptions.applies with input as _as("ceo@example.com", "prod-secrets")
}
