# METADATA
# title: Hard stops
# description: Conditions that deny before any prompt, because no stronger authentication makes them safe.
package stepup.stops

import data.stepup.target

# METADATA
# title: Malicious address on a sensitive target
# description: A sensitive target is reached from an address known to be malicious.
# custom:
#   code: stop.malicious_ip
#   controls: [PR.AA-03, PR.AA-05]
active contains "stop.malicious_ip" if {
	input.network.reputation == "malicious"
	target.is_sensitive
}

# METADATA
# title: Shared device on a critical target
# description: A shared or kiosk device reaches a critical target; no prompt makes a shared device fit for it.
# custom:
#   code: stop.shared_device
#   controls: [PR.AA-03, PR.AA-05]
active contains "stop.shared_device" if {
	input.device.kind == "shared"
	target.rank == 3
}
