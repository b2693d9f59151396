# Tests of device.rego: the device from a signed posture statement.
# The shared request and token helpers are in envoy_test.rego.
package stepup.envoy_test

import data.stepup.envoy

test_success_device_from_a_verified_posture_statement if {
	headers := object.union(_bearer(_fresh_passkey), {"x-device-posture": _posture({
		"device_id": "lt-4821", "managed": true, "compliant": false, "disk_encrypted": true,
		"edr_running": "yes", "os_patch_age_days": 9, "device_kind": "laptop",
	})})
	doc := envoy.input_document with input as _with_headers(headers) with data.stepup_envoy as _settings
	doc.device == {
		"id": "lt-4821", "attested": true, "managed": true, "compliant": false,
		"encrypted": true, "edr_running": null, "os_patch_age_days": 9, "kind": "laptop",
	}
}

test_fail_posture_of_another_user_or_unverified if {
	other := object.union(_bearer(_fresh_passkey), {"x-device-posture": _posture({"user": "bob@example.com"})})
	envoy.device.attested == false with input as _with_headers(other) with data.stepup_envoy as _settings
	stale := object.union(_bearer(_fresh_passkey), {"x-device-posture": _posture({"iat": _now - 90000})})
	envoy.device.attested == false with input as _with_headers(stale) with data.stepup_envoy as _settings
	anonymous := {"x-device-posture": _posture({})}
	envoy.device.attested == false with input as _with_headers(anonymous) with data.stepup_envoy as _settings
}

test_success_unbound_posture_and_custom_header if {
	settings := json.patch(_settings, [
		{"op": "remove", "path": "/device/subject_claim"},
		{"op": "add", "path": "/device/header", "value": "X-Posture"},
		{"op": "add", "path": "/device/audience", "value": ["mdm-clients"]},
	])
	headers := {"x-posture": _posture({"aud": "mdm-clients", "os_patch_age_days": 40000, "device_kind": "toaster"})}
	doc := envoy.input_document with input as _with_headers(headers) with data.stepup_envoy as settings
	doc.device.attested == true
	doc.device.id == "lt-1"
	doc.device.os_patch_age_days == null
	doc.device.kind == null
}

test_success_device_unknown_without_settings if {
	envoy.device == null with input as _request({}) with data.stepup_envoy as {}
}
