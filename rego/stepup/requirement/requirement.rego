# METADATA
# title: Requirement
# description: |
#   What a person's session must show: the tier's baseline raised by the risk level. Each part
#   takes the stricter of the two, so more risk never lowers the requirement. Freshness defaults
#   follow NIST SP 800-63B-4 (AAL2 re-authentication within 24 h, AAL3 within 12 h). The acr
#   values sent to the identity provider come from data, in the provider's own names.
package stepup.requirement

import data.stepup.arith
import data.stepup.config
import data.stepup.risk
import data.stepup.target

_base := config.requirements.tiers[target.tier]

_raise := config.requirements.levels[risk.level]

# METADATA
# description: The authenticator assurance level required, 1 to 3.
aal := arith.larger(_base.aal, _raise.aal)

# METADATA
# description: A phishing-resistant authenticator is required.
phishing_resistant if {
	_base.phishing_resistant
} else := _raise.phishing_resistant

# METADATA
# description: The longest time since authentication that is accepted, in seconds.
max_age := arith.smaller(_base.max_age, _raise.max_age)

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
