# METADATA
# title: Identity behaviour
# description: |
#   Risk points from how this subject usually behaves, as the SDK's behaviour store remembers it
#   (learned from successful authentications only, so an attacker's attempts teach it nothing).
package stepup.behavior

import data.stepup.config

# METADATA
# title: New device
# description: The subject has not authenticated from this device before.
# custom:
#   code: behavior.new_device
#   controls: [DE.CM-03, PR.AA-03]
signals contains "behavior.new_device" if input.behavior.new_device == true

# METADATA
# title: New country
# description: The subject has not authenticated from this country before.
# custom:
#   code: behavior.new_country
#   controls: [DE.CM-03, PR.AA-03]
signals contains "behavior.new_country" if input.behavior.new_country == true

# METADATA
# title: New network provider
# description: The subject has not authenticated from this network provider (ASN) before.
# custom:
#   code: behavior.new_asn
#   controls: [DE.CM-03]
signals contains "behavior.new_asn" if input.behavior.new_asn == true

# METADATA
# title: Unusual hours
# description: The request comes at an hour when this subject does not usually work.
# custom:
#   code: behavior.unusual_hours
#   controls: [DE.CM-03]
signals contains "behavior.unusual_hours" if input.behavior.usual_hours == false

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
