package stepup.device_test

import data.stepup.device

_trusted := {"attested": true, "managed": true, "compliant": true}

test_trusted_device_has_no_points if {
	device.points == {} with input as {"device": _trusted}
}

test_missing_device_is_unknown if {
	device.points == {"device.unknown": 20} with input as {"device": null}
}

test_unverified_posture_is_unattested if {
	device.points == {"device.unattested": 10} with input as {"device": {
		"attested": false,
		"managed": null,
		"compliant": null,
	}}
}

test_unmanaged_and_noncompliant_add_up if {
	device.points == {"device.unmanaged": 20, "device.noncompliant": 20} with input as {"device": {
		"attested": true,
		"managed": false,
		"compliant": false,
	}}
}

test_weights_come_from_data if {
	device.points == {"device.unmanaged": 7} with input as {"device": object.union(_trusted, {"managed": false})}
		with data.stepup.config.weights["device.unmanaged"] as 7
}
