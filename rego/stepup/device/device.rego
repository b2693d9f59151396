# METADATA
# title: Device trust
# description: |
#   Risk points from the device's posture. The SDK sets a field only from a verified posture
#   statement; when it could not verify one, the fields are null and the device is unattested,
#   which costs its own points: unknown is never read as healthy.
package stepup.device

import data.stepup.config
import data.stepup.target

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

# METADATA
# title: Unencrypted disk
# description: The device's disk is not encrypted, so data on it is exposed if the device is lost.
# custom:
#   code: device.unencrypted
#   controls: [PR.DS-01, PR.PS-01]
signals contains "device.unencrypted" if input.device.encrypted == false

# METADATA
# title: Endpoint protection not running
# description: The device's endpoint detection and response agent is not running.
# custom:
#   code: device.edr_missing
#   controls: [DE.CM-09, PR.PS-01]
signals contains "device.edr_missing" if input.device.edr_running == false

# METADATA
# title: Operating system behind on patches
# description: The device's operating system has gone without security updates for more than a month.
# custom:
#   code: device.patch_stale
#   controls: [PR.PS-02, ID.RA-01]
signals contains "device.patch_stale" if {
	days := input.device.os_patch_age_days
	limits := config.device
	days > limits.patch_stale_days
	days <= limits.patch_very_stale_days
}

# METADATA
# title: Operating system far behind on patches
# description: The device's operating system has gone without security updates for more than three months.
# custom:
#   code: device.patch_very_stale
#   controls: [PR.PS-02, ID.RA-01]
signals contains "device.patch_very_stale" if input.device.os_patch_age_days > config.device.patch_very_stale_days

# METADATA
# title: Shared device
# description: |
#   A shared or kiosk device: whoever used it before may still be around. Not counted on low
#   targets, so that kiosk users are not prompted again and again for the intranet.
# custom:
#   code: device.shared
#   controls: [PR.AA-03, PR.AA-05]
signals contains "device.shared" if {
	input.device.kind == "shared"
	target.rank > 0
}
