# METADATA
# title: Device trust
# description: |
#   Risk points from the device's posture. The SDK sets a field only from a verified posture
#   statement; when it could not verify one, the fields are null and the device is unattested.
package stepup.device

import data.stepup.config

# METADATA
# description: Each device signal present, with its weight from data.
points[code] := config.weights[code] if some code in signals

# METADATA
# title: Unknown device
# description: Nothing is known about the device the request comes from.
# custom:
#   code: device.unknown
#   controls: [PR.AA-03]
signals contains "device.unknown" if is_null(input.device)

# METADATA
# title: Unattested device
# description: The device's posture was not proven by a signed statement from device management.
# custom:
#   code: device.unattested
#   controls: [PR.AA-03]
signals contains "device.unattested" if {
	is_object(input.device)
	input.device.attested != true
}

# METADATA
# title: Unmanaged device
# description: The device is not enrolled in the organisation's device management.
# custom:
#   code: device.unmanaged
#   controls: [PR.AA-03, PR.PS-01]
signals contains "device.unmanaged" if input.device.managed == false

# METADATA
# title: Non-compliant device
# description: Device management reports that the device does not meet the compliance policy.
# custom:
#   code: device.noncompliant
#   controls: [PR.AA-03, PR.PS-01]
signals contains "device.noncompliant" if input.device.compliant == false
