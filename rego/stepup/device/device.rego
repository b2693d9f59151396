# METADATA
# title: Device trust
# description: |
#   Risk points from the device's posture. The SDK sets a field only from a verified posture
#   statement; when it could not verify one, the fields are null and the device is unattested,
#   which costs as much as the worst posture a statement could report, so that a requester never
#   gains by leaving its statement out. In a verified statement a field left out counts as
#   unhealthy: unknown is never read as healthy.
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
	not is_attested
}

# METADATA
# title: Unmanaged device
# description: The device is not enrolled in the organisation's device management.
# custom:
#   code: device.unmanaged
#   controls: [PR.AA-03, PR.PS-01]
signals contains "device.unmanaged" if {
	is_attested
	input.device.managed != true
}

# METADATA
# title: Non-compliant device
# description: Device management reports that the device does not meet the compliance policy.
# custom:
#   code: device.noncompliant
#   controls: [PR.AA-03, PR.PS-01]
signals contains "device.noncompliant" if {
	is_attested
	input.device.compliant != true
}

# METADATA
# title: Unencrypted disk
# description: The device's disk is not encrypted, so data on it is exposed if the device is lost.
# custom:
#   code: device.unencrypted
#   controls: [PR.DS-01, PR.PS-01]
signals contains "device.unencrypted" if {
	is_attested
	input.device.encrypted != true
}

# METADATA
# title: Endpoint protection not running
# description: The device's endpoint detection and response agent is not running.
# custom:
#   code: device.edr_missing
#   controls: [DE.CM-09, PR.PS-01]
signals contains "device.edr_missing" if {
	is_attested
	input.device.edr_running != true
}

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
# description: |
#   The device's operating system has gone without security updates for more than three months,
#   or its statement does not say.
# custom:
#   code: device.patch_very_stale
#   controls: [PR.PS-02, ID.RA-01]
signals contains "device.patch_very_stale" if input.device.os_patch_age_days > config.device.patch_very_stale_days

signals contains "device.patch_very_stale" if {
	is_attested
	is_null(input.device.os_patch_age_days)
}

# METADATA
# title: Shared device
# description: |
#   A shared or kiosk device, or one whose statement does not say what kind it is: whoever used
#   it before may still be around. Not counted on low targets, so that kiosk users are not
#   prompted again and again for the intranet.
# custom:
#   code: device.shared
#   controls: [PR.AA-03, PR.AA-05]
signals contains "device.shared" if {
	is_shared
	target.rank > 0
}

# METADATA
# description: A signed posture statement from device management was verified for this device.
# scope: document
default is_attested := false

is_attested if input.device.attested == true

# METADATA
# description: The device is shared, or its verified statement does not say what kind it is.
# scope: document
default is_shared := false

is_shared if input.device.kind == "shared"

is_shared if {
	is_attested
	is_null(input.device.kind)
}
