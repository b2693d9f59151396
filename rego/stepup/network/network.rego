# METADATA
# title: Network context
# description: |
#   Risk points from where the request enters: the configured zone of its address and the
#   address's reputation. A null field is unknown; the weights say what unknown costs.
package stepup.network

import data.stepup.config

# METADATA
# description: Each network signal present, with its weight from data.
points[code] := config.weights[code] if some code in signals

# METADATA
# title: External network
# description: The request comes from outside the corporate and known networks.
# custom:
#   code: network.external
#   controls: [PR.AA-03]
signals contains "network.external" if input.network.zone == "external"

# METADATA
# title: Unknown network
# description: The client address could not be established, so its network zone is unknown.
# custom:
#   code: network.unknown
#   controls: [PR.AA-03]
signals contains "network.unknown" if is_null(input.network.zone)

# METADATA
# title: Suspicious address
# description: The client address has a suspicious reputation.
# custom:
#   code: network.suspicious
#   controls: [DE.CM-01, PR.AA-03]
signals contains "network.suspicious" if input.network.reputation == "suspicious"

# METADATA
# title: Malicious address
# description: The client address is known to be malicious.
# custom:
#   code: network.malicious
#   controls: [DE.CM-01, PR.AA-03]
signals contains "network.malicious" if input.network.reputation == "malicious"
