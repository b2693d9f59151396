# METADATA
# title: stepup decision
# description: |
#   May this request go ahead, must the person prove more, or must it stop? The policy returns
#   codes and numbers only; the SDK renders text and control references from the rules' metadata.
package stepup

import data.stepup.config
import data.stepup.requirement
import data.stepup.risk
import data.stepup.session
import data.stepup.stops
import data.stepup.target

# METADATA
# description: |
#   The outcome. A hard stop denies before any prompt; otherwise a session that meets the
#   requirement goes ahead, and one that does not must step up.
# scope: document
default outcome := "step_up"

outcome := "deny" if count(stops.active) > 0

outcome := "allow" if {
	count(stops.active) == 0
	session.satisfies
}

# METADATA
# title: Unknown application
# description: The application is not in the catalog, so it is treated as sensitive.
# custom:
#   code: target.unknown_app
#   controls: [PR.AA-05]
_notes contains "target.unknown_app" if not target.is_known

# METADATA
# title: Elevated risk
# description: The signals together raised the risk above low, and with it the requirement.
# custom:
#   code: risk.elevated
#   controls: [PR.AA-03]
_notes contains "risk.elevated" if risk.level != "low"

# METADATA
# description: Why the outcome is what it is.
reasons := (stops.active | session.gaps) | _notes

# METADATA
# title: Decision
# description: The decision document; the SDK validates it and adds the bundle revision.
# entrypoint: true
decision := {
	"outcome": outcome,
	"tier": target.tier,
	"risk": {
		"score": risk.score,
		"level": risk.level,
		"groups": risk.groups,
		"contributions": risk.contributions,
	},
	"requirement": requirement.required,
	"satisfied": session.satisfies,
	"reasons": reasons,
	"obligations": set(),
	"exceptions": set(),
	"policy_version": config.policy_version,
}
