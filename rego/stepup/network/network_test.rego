package stepup.network_test

import data.stepup.network

test_corporate_good_network_has_no_points if {
	network.points == {} with input as {"network": {"zone": "corporate", "reputation": "good"}}
}

test_external_network_is_a_weak_signal if {
	network.points == {"network.external": 5} with input as {"network": {"zone": "external", "reputation": "neutral"}}
}

test_unknown_zone if {
	network.points == {"network.unknown": 10} with input as {"network": {"zone": null, "reputation": null}}
}

test_suspicious_reputation if {
	network.points == {"network.suspicious": 25} with input as {"network": {"zone": "known", "reputation": "suspicious"}}
}

test_malicious_reputation if {
	network.points == {"network.external": 5, "network.malicious": 60} with input as {"network": {
		"zone": "external",
		"reputation": "malicious",
	}}
}
