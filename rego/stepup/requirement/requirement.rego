# METADATA
# title: Requirement
# description: |
#   What a person's session must show: the tier's baseline, raised by the risk level, and fitted
#   to the threat. Each part takes the stricter of its sources, so more risk never lowers the
#   requirement. Freshness defaults follow NIST SP 800-63B-4 (AAL2 re-authentication within 24 h,
#   AAL3 within 12 h). When the signals suggest that someone other than the subject holds the
#   session (an unfamiliar context, an anonymizing network), a fresher login of the same kind
#   proves nothing that a relaying phisher or a stolen token cannot pass: the requirement is then
#   a fresh phishing-resistant authentication. An action that uses privilege granted after the
#   session's authentication needs an authentication after the grant. The acr values sent to the
#   identity provider come from data, in the provider's own names.
package stepup.requirement

import data.stepup.config
import data.stepup.risk
import data.stepup.target

_base := config.requirements.tiers[target.tier]

_raise := config.requirements.levels[risk.level]

_actor := config.requirements.another_actor

# METADATA
# description: A signal that suggests someone other than the subject counted.
# scope: document
default is_another_actor := false

is_another_actor if {
	some code in _actor.signals
	risk.contributions[code]
}

# METADATA
# description: The authenticator assurance level required, 1 to 3.
aal := max({_base.aal, _raise.aal})

# METADATA
# description: A phishing-resistant authenticator is required.
# scope: document
default phishing_resistant := false

phishing_resistant if _base.phishing_resistant

phishing_resistant if _raise.phishing_resistant

phishing_resistant if is_another_actor

# The ages each source accepts; the requirement takes the shortest.
_ages contains _base.max_age

_ages contains _raise.max_age

_ages contains _actor.max_age if is_another_actor

# Seconds since the privilege was granted: an authentication within them came after the grant.
_ages contains max({input.now - granted, 0}) if {
	target.is_privileged
	granted := input.subject.privilege_granted_at
	is_number(granted)
}

# METADATA
# description: The longest time since authentication that is accepted, in seconds.
max_age := min(_ages)

# METADATA
# description: The requirement as the decision states it, with the acr values to ask the identity provider for.
required := {
	"kind": "session",
	"aal": name,
	"phishing_resistant": phishing_resistant,
	"max_age": max_age,
	"acr_values": acr_values,
} if {
	name := config.assurance.aal_names[aal]
	acr_values := config.assurance.acr_values[name][_factor(phishing_resistant)]
}

_factor(true) := "phishing_resistant"

_factor(false) := "any"
