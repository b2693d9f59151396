# METADATA
# title: Hard stops
# description: |
#   Conditions that deny before any prompt, because no stronger authentication makes them safe.
#   An exception lifts a stop only when it names it.
package stepup.stops

import data.stepup.config
import data.stepup.device
import data.stepup.exceptions
import data.stepup.geo
import data.stepup.risk
import data.stepup.session
import data.stepup.subject
import data.stepup.target

# METADATA
# title: Malicious address on a sensitive target
# description: A sensitive target is reached from an address known to be malicious.
# custom:
#   code: stop.malicious_ip
#   controls: [PR.AA-03, PR.AA-05, DE.CM-01]
raw contains "stop.malicious_ip" if {
	input.network.reputation == "malicious"
	target.is_sensitive
}

# METADATA
# title: Impossible travel on a privileged action
# description: A privileged action comes from a place the person cannot have reached since the previous login.
# custom:
#   code: stop.impossible_travel
#   controls: [PR.AA-03, PR.AA-05, DE.CM-03]
raw contains "stop.impossible_travel" if {
	subject.is_human
	"geo.impossible_travel" in geo.signals
	target.is_privileged
}

# METADATA
# title: Shared device on a critical target
# description: A shared or kiosk device reaches a critical target; no prompt makes a shared device fit for it.
# custom:
#   code: stop.shared_device
#   controls: [PR.AA-03, PR.AA-05]
raw contains "stop.shared_device" if {
	device.is_shared
	subject.is_human
	target.tier == "critical"
}

# METADATA
# title: Unproven device on a critical target
# description: |
#   A critical target is reached from a device whose posture no signed statement proved; no
#   prompt proves what the device is.
# custom:
#   code: stop.unproven_device
#   controls: [PR.AA-03, PR.PS-01]
raw contains "stop.unproven_device" if {
	not device.is_attested
	subject.is_human
	target.tier == "critical"
}

# METADATA
# title: Risk too high
# description: The risk score is beyond what any prompt can answer for a target of this tier.
# custom:
#   code: stop.risk_too_high
#   controls: [PR.AA-03, ID.RA-05]
raw contains "stop.risk_too_high" if risk.score >= config.deny_score[target.tier]

# METADATA
# title: Too many prompts
# description: |
#   Authentication prompts have already been sent many times in the fatigue window, as in push
#   bombing; sending another would help an attacker, so stop prompting and alert security.
# custom:
#   code: stop.mfa_fatigue
#   controls: [PR.AA-03, DE.CM-03]
raw contains "stop.mfa_fatigue" if {
	input.behavior.prompts_recent >= config.fatigue.max_prompts
	subject.is_human
	not session.satisfies
}

# METADATA
# description: The stops that hold, less those an exception lifts.
active := raw if {
	not exceptions.applies
} else := {stop | some stop in raw; not stop in exceptions.relaxes}
