package stepup.network_test

import data.stepup.network

_net(zone, reputation, anonymizer) := {"network": {"zone": zone, "reputation": reputation, "anonymizer": anonymizer}}

test_corporate_good_network_has_no_signals if {
	network.signals == set() with input as _net("corporate", "good", "none")
	network.signals == set() with input as _net("known", "neutral", "none")
}

test_external_network if {
	network.signals == {"network.external"} with input as _net("external", "neutral", "none")
}

test_unknown_zone if {
	network.signals == {"network.unknown"} with input as _net(null, null, null)
}

test_reputation if {
	network.signals == {"network.suspicious"} with input as _net("known", "suspicious", "none")
	network.signals == {"network.malicious"} with input as _net("known", "malicious", "none")
}

test_anonymizers if {
	network.signals == {"network.vpn"} with input as _net("known", "good", "vpn")
	network.signals == {"network.proxy"} with input as _net("known", "good", "proxy")
	network.signals == {"network.hosting"} with input as _net("known", "good", "hosting")
	network.signals == {"network.tor"} with input as _net("known", "good", "tor")
}

test_is_anonymized if {
	network.is_anonymized with input as _net("external", "good", "tor")
	not network.is_anonymized with input as _net("external", "good", "none")
	not network.is_anonymized with input as _net("external", "good", null)
}
