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

_indexed_settings := object.union(_settings, {"network": {
	"corporate": {"ipv4": {"24": {"198.51.100.0": true}}},
	"known": {"ipv4": {"24": {"192.0.2.0": true}}, "ipv6": {"48": {"2001:db8:c0::": true}}},
	"lists": [
		{"cidrs": {"ipv4": {"32": {"203.0.113.66": true, "203.0.113.77": true}}}, "reputation": "suspicious"},
		{
			"cidrs": {"ipv4": {"32": {"203.0.113.77": true}}, "ipv6": {"128": {"2001:db8:bad::1": true}}},
			"reputation": "malicious",
		},
		{"cidrs": {"ipv4": {"32": {"203.0.113.66": true}}}, "anonymizer": "tor"},
		{"cidrs": {"ipv4": {"16": {"203.0.0.0": true}}, "ipv6": {"32": {"2001:db8::": true}}}, "anonymizer": "hosting"},
	],
}})

test_success_network_indexed_lists if {
	every case in [
		["198.51.100.7", "corporate", "neutral", "none"],
		["192.0.2.10", "known", "neutral", "none"],
		["203.0.113.66", "external", "suspicious", "tor"],
		["203.0.113.77", "external", "malicious", "hosting"],
		["::ffff:203.0.113.77", "external", "malicious", "hosting"],
		["203.1.113.77", "external", "neutral", "none"],
		["2001:DB8:C0::5", "known", "neutral", "hosting"],
		["2001:db8:bad::1", "external", "malicious", "hosting"],
		["2001:DB8:BAD:0:0::1", "external", "malicious", "hosting"],
		["2001:db9::1", "external", "neutral", "none"],
	] {
		network := envoy.network with input as _address(case[0]) with data.stepup_envoy as _indexed_settings
		[network.zone, network.reputation, network.anonymizer] == array.slice(case, 1, 4)
	}
}
