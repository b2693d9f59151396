# METADATA
# title: Identity behaviour
# description: |
#   Risk points from how this subject usually behaves, as the SDK's behaviour store remembers it:
#   counters of failed attempts and prompts, and how familiar the request's context is for this
#   subject (the store learns only from proven authentications, so an attacker's requests teach
#   it nothing). A request whose familiarity is unknown counts as unfamiliar: leaving out what
#   the profile compares never makes a request look better.
package stepup.behavior

import data.stepup.config

# METADATA
# title: Unfamiliar context
# description: |
#   Several features of the request (network, place, device, browser, hours, app) are unlike the
#   subject's proven history, or cannot be compared with it; together they suggest someone else.
# custom:
#   code: behavior.unfamiliar_context
#   controls: [DE.CM-03, PR.AA-03]
signals contains "behavior.unfamiliar_context" if {
	input.familiarity.novelty >= config.familiarity.novelty
}

signals contains "behavior.unfamiliar_context" if is_null(input.familiarity)

# METADATA
# title: Little history
# description: The subject has too few proven authentications for its context to be compared with.
# custom:
#   code: behavior.new_subject
#   controls: [DE.CM-03]
signals contains "behavior.new_subject" if {
	input.familiarity.history < config.familiarity.min_history
}

# METADATA
# title: Failed attempts
# description: Several authentication attempts for this subject failed recently.
# custom:
#   code: behavior.failed_attempts
#   controls: [DE.CM-03, PR.AA-03]
signals contains "behavior.failed_attempts" if {
	failed := input.behavior.failed_attempts_recent
	limits := config.behavior
	failed >= limits.failed_attempts
	failed < limits.many_failed_attempts
}

# METADATA
# title: Many failed attempts
# description: Many authentication attempts for this subject failed recently, as in password guessing.
# custom:
#   code: behavior.many_failed_attempts
#   controls: [DE.CM-03, PR.AA-03]
signals contains "behavior.many_failed_attempts" if {
	input.behavior.failed_attempts_recent >= config.behavior.many_failed_attempts
}

# METADATA
# title: Privilege gained mid-session
# description: The subject gained roles or groups after this session was authenticated.
# custom:
#   code: behavior.privilege_escalation
#   controls: [PR.AA-05, DE.CM-03]
signals contains "behavior.privilege_escalation" if input.behavior.privilege_escalation == true
