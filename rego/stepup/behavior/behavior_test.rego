package stepup.behavior_test

import data.stepup.behavior

_quiet := {"failed_attempts_recent": 0, "prompts_recent": 0, "privilege_escalation": false}

_familiar := {"history": 40, "novelty": 120, "unfamiliar": ["hour"]}

_with(fields) := {"behavior": object.union(_quiet, fields), "familiarity": _familiar}

_familiarity(fields) := {"behavior": _quiet, "familiarity": object.union(_familiar, fields)}

test_usual_behaviour_has_no_signals if {
	behavior.signals == set() with input as _with({})
}

test_unknown_counters_have_no_signals if {
	behavior.signals == set() with input as {"behavior": null, "familiarity": _familiar}
	behavior.signals == set() with input as _with({"failed_attempts_recent": null, "privilege_escalation": null})
}

test_success_one_new_feature_stays_familiar if {
	behavior.signals == set() with input as _familiarity({"novelty": 599, "unfamiliar": ["asn"]})
}

test_fail_several_new_features_are_unfamiliar if {
	behavior.signals == {"behavior.unfamiliar_context"} with input as _familiarity({"novelty": 600})
	behavior.signals == {"behavior.unfamiliar_context"} with input as _familiarity({"novelty": 2400})
}

test_fail_unknown_familiarity_counts_as_unfamiliar if {
	behavior.signals == {"behavior.unfamiliar_context"} with input as {"behavior": _quiet, "familiarity": null}
}

test_fail_little_history if {
	behavior.signals == {"behavior.new_subject"} with input as _familiarity({"history": 2, "novelty": 0})
	behavior.signals == set() with input as _familiarity({"history": 3, "novelty": 0})
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
