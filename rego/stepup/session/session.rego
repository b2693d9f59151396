# METADATA
# title: Session assurance
# description: |
#   What the person's current session proves (assurance level, phishing resistance, age) and
#   where it falls short of the requirement. acr values are mapped to levels by data, so teams
#   can use their identity provider's names. amr values (RFC 8176) are mapped to the factors
#   they prove: methods of two distinct factors are two-factor authentication (AAL2), and with a
#   hardware authenticator among them AAL3; phishing resistance comes only from methods bound
#   to the site (hardware keys, smart cards, passkeys).
package stepup.session

import data.stepup.config
import data.stepup.exceptions
import data.stepup.requirement
import data.stepup.target

# METADATA
# description: The request carries an authenticated session.
# scope: document
default has_session := false

has_session if is_object(input.session)

default _acr_level := {"aal": 0, "phishing_resistant": false}

_acr_level := config.assurance.acr[input.session.acr]

# The factors the session's methods prove (knowledge, possession, inherence); methods the
# data does not name prove nothing.
_factors contains factor if {
	some method in input.session.amr
	some factor in config.assurance.amr[method].factors
}

default _amr_aal := 0

_amr_aal := 3 if {
	count(_factors) >= 2
	some method in input.session.amr
	config.assurance.amr[method].hardware
} else := 2 if {
	count(_factors) >= 2
} else := 1 if {
	count(_factors) == 1
}

# METADATA
# description: The session's authenticator assurance level, 0 when unauthenticated.
aal := _amr_aal if {
	_amr_aal > _acr_level.aal
} else := _acr_level.aal

# METADATA
# description: The session used a phishing-resistant authenticator.
# scope: document
default is_phishing_resistant := false

is_phishing_resistant if _acr_level.phishing_resistant

is_phishing_resistant if {
	amr := config.assurance.amr
	some method in input.session.amr
	amr[method].phishing_resistant
}

# METADATA
# description: |
#   Seconds since authentication; undefined when auth_time is missing or further in the future
#   than the clock skew allowed (a little ahead counts as just now).
age := _fresh(input.now - input.session.auth_time)

_fresh(elapsed) := elapsed if {
	elapsed >= 0
} else := 0 if {
	0 - elapsed <= config.assurance.clock_skew
}

# METADATA
# title: No session
# description: The request carries no authenticated session.
# custom:
#   code: session.missing
#   controls: [PR.AA-03]
raw_gaps contains "session.missing" if not has_session

# METADATA
# title: Assurance too low
# description: The session's authentication assurance level is below what the target and risk require.
# custom:
#   code: session.aal_insufficient
#   controls: [PR.AA-03]
raw_gaps contains "session.aal_insufficient" if {
	has_session
	aal < requirement.aal
}

# METADATA
# title: Not phishing-resistant
# description: The target and risk require a phishing-resistant authenticator and the session did not use one.
# custom:
#   code: session.not_phishing_resistant
#   controls: [PR.AA-03]
raw_gaps contains "session.not_phishing_resistant" if {
	has_session
	requirement.phishing_resistant
	not is_phishing_resistant
}

# METADATA
# title: Authentication too old
# description: The last authentication is older than the maximum age the target and risk allow.
# custom:
#   code: session.too_old
#   controls: [PR.AA-03]
raw_gaps contains "session.too_old" if age > requirement.max_age

# METADATA
# title: Authentication before the privilege
# description: |
#   The action uses privilege that was granted after the session was authenticated; it needs an
#   authentication after the grant, whoever gained the privilege.
# custom:
#   code: session.predates_privilege
#   controls: [PR.AA-05, PR.AA-03]
raw_gaps contains "session.predates_privilege" if {
	has_session
	target.is_privileged
	not input.session.auth_time >= input.subject.privilege_granted_at
	is_number(input.subject.privilege_granted_at)
}

# METADATA
# title: Authentication time unknown
# description: The session has no authentication time, or one in the future, so its freshness cannot be shown.
# custom:
#   code: session.auth_time_invalid
#   controls: [PR.AA-03]
raw_gaps contains "session.auth_time_invalid" if {
	has_session
	not age
}

# METADATA
# description: Where the session falls short, less what an exception relaxes.
gaps := raw_gaps if {
	not exceptions.applies
} else := {gap | some gap in raw_gaps; not gap in exceptions.relaxes}

# METADATA
# description: The session meets every part of the requirement.
# scope: document
default satisfies := false

satisfies if count(gaps) == 0
