package stepup.behavior_test

import data.stepup.behavior

_quiet := {
	"new_device": false, "new_country": false, "new_asn": false, "usual_hours": true,
	"failed_attempts_recent": 0, "prompts_recent": 0, "privilege_escalation": false,
}

_with(fields) := {"behavior": object.union(_quiet, fields)}

test_usual_behaviour_has_no_signals if {
	behavior.signals == set() with input as _with({})
}

test_unknown_behaviour_has_no_signals if {
	behavior.signals == set() with input as {"behavior": null}
	behavior.signals == set() with input as _with({
		"new_device": null, "new_country": null, "new_asn": null, "usual_hours": null,
		"failed_attempts_recent": null, "privilege_escalation": null,
	})
}

test_novelty if {
	behavior.signals == {"behavior.new_device"} with input as _with({"new_device": true})
	behavior.signals == {"behavior.new_country"} with input as _with({"new_country": true})
	behavior.signals == {"behavior.new_asn"} with input as _with({"new_asn": true})
}

test_unusual_hours if {
	behavior.signals == {"behavior.unusual_hours"} with input as _with({"usual_hours": false})
}

test_failed_attempt_thresholds if {
	behavior.signals == set() with input as _with({"failed_attempts_recent": 2})
	behavior.signals == {"behavior.failed_attempts"} with input as _with({"failed_attempts_recent": 3})
	behavior.signals == {"behavior.failed_attempts"} with input as _with({"failed_attempts_recent": 9})
	behavior.signals == {"behavior.many_failed_attempts"} with input as _with({"failed_attempts_recent": 10})
}

test_privilege_escalation if {
	behavior.signals == {"behavior.privilege_escalation"} with input as _with({"privilege_escalation": true})
}
