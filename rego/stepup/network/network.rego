# METADATA
# title: Network context
# description: |
#   Risk points from where the request enters: the configured zone of its address, the address's
#   reputation, and anonymizing egress (VPN services, Tor, open proxies, hosting providers).
#   A null field is unknown; the weights say what unknown costs.
package stepup.network

# METADATA
# title: Unknown network
# description: The client address could not be placed in a zone, so where the request comes from is unknown.
# custom:
#   code: network.unknown
#   controls: [PR.AA-03]
signals contains "network.unknown" if is_null(input.network.zone)

# METADATA
# title: External network
# description: The request comes from outside the corporate and known networks.
# custom:
#   code: network.external
#   controls: [PR.AA-03]
signals contains "network.external" if input.network.zone == "external"

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

# METADATA
# title: VPN service
# description: The request leaves a commercial VPN service, which hides where the person is.
# custom:
#   code: network.vpn
#   controls: [DE.CM-01, PR.AA-03]
signals contains "network.vpn" if input.network.anonymizer == "vpn"

# METADATA
# title: Open proxy
# description: The request comes through an open proxy.
# custom:
#   code: network.proxy
#   controls: [DE.CM-01, PR.AA-03]
signals contains "network.proxy" if input.network.anonymizer == "proxy"

# METADATA
# title: Hosting provider
# description: The request comes from a hosting or cloud provider's address, not a person's network.
# custom:
#   code: network.hosting
#   controls: [DE.CM-01, PR.AA-03]
signals contains "network.hosting" if input.network.anonymizer == "hosting"

# METADATA
# title: Tor exit
# description: The request comes from a Tor exit node.
# custom:
#   code: network.tor
#   controls: [DE.CM-01, PR.AA-03]
signals contains "network.tor" if input.network.anonymizer == "tor"

# METADATA
# description: The request's egress hides the person's location.
# scope: document
default is_anonymized := false

is_anonymized if input.network.anonymizer in {"vpn", "tor", "proxy", "hosting"}
