# Tests of network.rego: zones and lists for the source address.
# The shared request and token helpers are in envoy_test.rego.
package stepup.envoy_test

import data.stepup.envoy

_address(address) := _request({"attributes": {"source": {"address": {"socketAddress": {"address": address}}}}})

test_success_network_zones_and_lists if {
	every case in [
		["198.51.100.7", "corporate", "neutral", "none"],
		["192.0.2.10", "known", "neutral", "none"],
		["203.0.113.66", "external", "suspicious", "tor"],
		["203.0.113.77", "external", "malicious", "none"],
		["::ffff:203.0.113.77", "external", "malicious", "none"],
		["2001:DB8:C0::5", "known", "neutral", "none"],
		["2001:db8:bad::1", "external", "malicious", "none"],
	] {
		network := envoy.network with input as _address(case[0]) with data.stepup_envoy as _settings
		[network.zone, network.reputation, network.anonymizer] == array.slice(case, 1, 4)
	}
}

test_success_network_unknown_without_lists_or_a_valid_address if {
	n := envoy.network with input as _address("198.51.100.7") with data.stepup_envoy as {}
	n == {"ip": "198.51.100.7", "zone": "external", "reputation": null, "anonymizer": null, "asn": null}
	every address in ["999.1.1.1", "fe80::1%eth0", "01.2.3.4", "not an address"] {
		envoy.network.ip == null with input as _address(address) with data.stepup_envoy as _settings
	}
	envoy.network.zone == null with input as {} with data.stepup_envoy as _settings
}
