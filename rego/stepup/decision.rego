# METADATA
# title: stepup decision
# description: |
#   May this request go ahead, must the person prove more, or must it stop? The policy returns
#   codes and numbers only; the SDK renders text and control references from the rules' metadata.
package stepup

import data.stepup.config
import data.stepup.contract
import data.stepup.exceptions
import data.stepup.requirement
import data.stepup.risk
import data.stepup.session
import data.stepup.stops
import data.stepup.subject
import data.stepup.target
import data.stepup.workload

# METADATA
# description: |
#   The outcome. A hard stop denies before any prompt; otherwise a subject that meets the
#   requirement goes ahead. A person who does not must step up; a service or workload is denied,
#   never prompted.
# scope: document
default outcome := "step_up"

outcome := "deny" if {
	count(stops.active) > 0
} else := "allow" if {
	satisfied
} else := "deny" if {
	not subject.is_human
}

# METADATA
# description: The subject already meets the requirement.
satisfied := session.satisfies if {
	subject.is_human
} else := workload.satisfies

_gaps := session.gaps if {
	subject.is_human
} else := workload.gaps

_requirement := requirement.required if {
	subject.is_human
} else := workload.required

# METADATA
# description: |
#   Why the outcome is what it is: the stops, the gaps and the notes. One definition per source
#   rather than unions, which would copy every set into a new one.
# scope: document
reasons contains code if some code in stops.active

reasons contains code if some code in _gaps

reasons contains code if some code in target.notes

reasons contains code if some code in risk.notes

reasons contains code if some code in exceptions.notes

# METADATA
# description: What the caller must do besides enforcing the outcome.
# scope: document
obligations contains "log_for_review" if exceptions.applies

obligations contains "notify_security" if exceptions.is_break_glass

obligations contains "notify_security" if {
	some stop in stops.active
	config.notify_security[stop]
}

# What an exception relaxed is worked out only when one applies.
default _exceptions := []

_exceptions := exceptions.applied((((risk.raw_codes | stops.raw) | session.raw_gaps) | workload.raw_gaps)) if {
	exceptions.applies
}

# METADATA
# title: Decision
# description: |
#   The decision document; the SDK validates it and adds the bundle revision. The document is
#   established first (data.stepup.contract, generated from the input contract): one that meets
#   the contract is decided with every omitted field filled in exactly as the SDK fills it, so
#   every runtime gives the SDK's decision; one that breaks it is denied, naming the fields.
# entrypoint: true
decision := verdict if {
	contract.valid

	# regal ignore:with-outside-test-context
	verdict := _verdict with input as contract.document
} else := _refusal

# The verdict on a document that meets the contract, as the SDK fills it in.
_verdict := {
	"outcome": outcome,
	"tier": target.tier,
	"risk": {
		"score": risk.score,
		"level": risk.level,
		"groups": risk.groups,
		"contributions": risk.contributions,
	},
	"requirement": _requirement,
	"satisfied": satisfied,
	"reasons": reasons,
	"obligations": obligations,
	"exceptions": _exceptions,
	"policy_version": config.policy_version,
}

# METADATA
# title: Input invalid
# description: |
#   The input document breaks the input contract (a missing field, a wrong type, an unknown field
#   or kind, a value out of range), so it is denied without being decided; invalid_fields names
#   the fields at fault.
# custom:
#   code: input.invalid
#   controls: [PR.AA-05]
_refusal := {
	"outcome": "deny",
	"tier": "critical",
	"risk": {"score": 0, "level": "low", "groups": {}, "contributions": {}},
	"requirement": _refused_requirement,
	"satisfied": false,
	"reasons": ["input.invalid"],
	"obligations": [],
	"exceptions": [],
	"policy_version": config.policy_version,
	"invalid_fields": sort(contract.problems),
}

# What no request meets, in the form the subject's kind reads (a workload's when the kind is unknown).
default _refused_requirement := {
	"kind": "workload", "proof": [], "max_lifetime": 0,
	"storage": [], "missing": ["input.invalid"],
}

_refused_requirement := {
	"kind": "session", "aal": "aal3", "phishing_resistant": true,
	"max_age": 0, "acr_values": [],
} if {
	input.subject.kind == "human"
}
