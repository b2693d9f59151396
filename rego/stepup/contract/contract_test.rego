package stepup.contract_test

import data.stepup.contract

_now := 1795852800

_least := {
	"now": _now,
	"subject": {"id": "alice@example.com", "kind": "human"},
	"target": {"app": "wiki", "action": "read"},
}

# Every field present and set, each to a value the contract accepts.
_full := {
	"version": 1,
	"now": _now,
	"subject": {
		"id": "svc", "kind": "workload", "roles": ["r"], "groups": ["g"], "tags": ["t"],
		"privilege_granted_at": _now - 60,
	},
	"session": {"acr": "phr", "amr": ["hwk"], "auth_time": _now - 60},
	"credential": {
		"type": "spiffe_svid", "issued_at": _now - 60, "expires_at": _now + 60,
		"storage": "workload_api", "spiffe_id": "spiffe://example.org/billing",
	},
	"device": {
		"id": "lt-1", "attested": true, "managed": true, "compliant": true, "encrypted": true,
		"edr_running": true, "os_patch_age_days": 3, "kind": "laptop",
	},
	"network": {"ip": "2001:db8::1", "zone": "corporate", "reputation": "good", "anonymizer": "none", "asn": 64512},
	"geo": {
		"country": "FR", "lat": 48.85, "lon": 2.35, "accuracy_km": 20, "distance_km": 0,
		"previous": {"country": "FR", "accuracy_km": 20, "time": _now - 3600, "anonymized": false},
	},
	"behavior": {"failed_attempts_recent": 0, "prompts_recent": 0, "privilege_escalation": false},
	"familiarity": {"history": 40, "novelty": 0, "unfamiliar": ["hour"]},
	"target": {"app": "wiki", "action": "read", "resource": "/wiki/home"},
}

test_success_omitted_fields_take_their_defaults if {
	contract.valid with input as _least
	contract.document == {
		"version": 1,
		"now": _now,
		"subject": {
			"id": "alice@example.com", "kind": "human", "roles": [], "groups": [], "tags": [],
			"privilege_granted_at": null,
		},
		"session": null, "credential": null, "device": null,
		"network": {"ip": null, "zone": null, "reputation": null, "anonymizer": null, "asn": null},
		"geo": null, "behavior": null, "familiarity": null,
		"target": {"app": "wiki", "action": "read", "resource": null},
	} with input as _least
}

test_success_a_full_document_is_kept_as_it_is if {
	contract.valid with input as _full
	contract.document == _full with input as _full
}

test_success_nested_objects_fill_their_own_defaults if {
	sparse := object.union(_least, {
		"device": {}, "session": {}, "credential": {"type": "mtls"},
		"geo": {"previous": {"time": _now}},
	})
	contract.valid with input as sparse
	d := contract.document with input as sparse
	d.device == {
		"id": null, "attested": false, "managed": null, "compliant": null, "encrypted": null,
		"edr_running": null, "os_patch_age_days": null, "kind": null,
	}
	d.session == {"acr": null, "amr": null, "auth_time": null}
	d.credential == {"type": "mtls", "issued_at": null, "expires_at": null, "storage": null, "spiffe_id": null}
	d.geo.previous == {"country": null, "accuracy_km": null, "time": _now, "anonymized": false}
	unplaced := object.union(_least, {"geo": {"country": "FR"}})
	contract.document.geo.previous == null with input as unplaced
}

test_fail_a_document_that_is_not_an_object if {
	every document in ["x", 1, [], null, true] {
		contract.problems == {""} with input as document
	}
	contract.problems == {""}
}

test_fail_required_fields_missing if {
	contract.problems == {"now", "subject", "target"} with input as {}
	contract.problems == {
		"subject.id", "subject.kind", "target.app", "target.action", "credential.type",
		"geo.previous.time", "familiarity.history", "familiarity.novelty", "familiarity.unfamiliar",
	} with input as {
		"now": _now, "subject": {}, "target": {}, "credential": {},
		"geo": {"previous": {}}, "familiarity": {},
	}
}

# Every field of the full document with a value of the wrong type.
_wrong := {
	"version": 2,
	"now": "now",
	"subject": {
		"id": 1, "kind": "robot", "roles": "r", "groups": [[]], "tags": {},
		"privilege_granted_at": -1,
	},
	"session": {"acr": "", "amr": "pwd", "auth_time": 1.5},
	"credential": {
		"type": "password", "issued_at": "x", "expires_at": 253402300800,
		"storage": "disk", "spiffe_id": "http://x",
	},
	"device": {
		"id": false, "attested": null, "managed": 1, "compliant": "yes", "encrypted": [],
		"edr_running": {}, "os_patch_age_days": 36501, "kind": "tablet",
	},
	"network": {"ip": "10.0.0.256", "zone": "home", "reputation": "bad", "anonymizer": "i2p", "asn": 4294967296},
	"geo": {
		"country": "fr", "lat": 91, "lon": -181, "accuracy_km": 0.5, "distance_km": 50001,
		"previous": {"country": "FRA", "accuracy_km": -1, "time": null, "anonymized": "no"},
	},
	"behavior": {"failed_attempts_recent": 1000001, "prompts_recent": true, "privilege_escalation": 0},
	"familiarity": {"history": -1, "novelty": "0", "unfamiliar": ["smell"]},
	"target": {"app": "a", "action": "", "resource": 7},
}

test_fail_every_field_of_the_wrong_type if {
	contract.problems == {
		"version", "now", "subject.id", "subject.kind", "subject.roles", "subject.groups[0]", "subject.tags",
		"subject.privilege_granted_at", "session.acr", "session.amr", "session.auth_time", "credential.type",
		"credential.issued_at", "credential.expires_at", "credential.storage", "credential.spiffe_id",
		"device.id", "device.attested", "device.managed", "device.compliant", "device.encrypted",
		"device.edr_running", "device.os_patch_age_days", "device.kind", "network.ip", "network.zone",
		"network.reputation", "network.anonymizer", "network.asn", "geo.country", "geo.lat", "geo.lon",
		"geo.accuracy_km", "geo.distance_km", "geo.previous.country", "geo.previous.accuracy_km",
		"geo.previous.time", "geo.previous.anonymized", "behavior.failed_attempts_recent",
		"behavior.prompts_recent", "behavior.privilege_escalation", "familiarity.history",
		"familiarity.novelty", "familiarity.unfamiliar[0]", "target.action", "target.resource",
	} with input as _wrong
}

test_fail_objects_of_the_wrong_type if {
	contract.problems == {
		"subject", "session", "credential", "device", "network", "geo", "behavior", "familiarity", "target",
	} with input as {
		"now": _now, "subject": [], "session": "s", "credential": 1, "device": true, "network": null,
		"geo": [], "behavior": "b", "familiarity": 0, "target": "t",
	}
	contract.problems == {"geo.previous"} with input as object.union(_least, {"geo": {"previous": []}})
}

test_fail_unknown_fields_of_every_object if {
	extra := {"extra": 1}
	document := object.union(_full, {
		"extra": 1, "subject": extra, "session": extra, "credential": extra, "device": extra,
		"network": extra, "geo": {"previous": extra, "extra": 1}, "behavior": extra, "familiarity": extra,
		"target": extra,
	})
	contract.problems == {
		"extra", "subject.extra", "session.extra", "credential.extra", "device.extra", "network.extra",
		"geo.extra", "geo.previous.extra", "behavior.extra", "familiarity.extra", "target.extra",
	} with input as document
}

test_fail_list_items_by_index_and_a_list_too_long_as_a_whole if {
	lists := {"roles": ["ok", 1, ""], "groups": [x | some x in numbers.range(1, 65)], "tags": ["t", "t", true]}
	contract.problems == {
		"subject.roles[1]", "subject.roles[2]", "subject.groups",
		"subject.tags[2]",
	} with input as object.union(_least, {"subject": lists})
	amr := object.union(_least, {"session": {"amr": ["pwd", ""]}})
	contract.problems == {"session.amr[1]"} with input as amr
}

test_bounds_are_inclusive_and_integers_whole if {
	contract.valid with input as object.union(_least, {"now": 253402300799})
	contract.problems == {"now"} with input as object.union(_least, {"now": 253402300800})
	contract.valid with input as object.union(_least, {"now": 0})
	contract.problems == {"now"} with input as object.union(_least, {"now": -1})
	contract.problems == {"now"} with input as object.union(_least, {"now": 1.5})
	contract.valid with input as object.union(_least, {"geo": {"lat": -90, "lon": 180.0}})
}

_emoji(n) := object.union(_least, {"subject": {"id": concat("", [x | some _ in numbers.range(1, n); x := "😀"])}})

test_lengths_count_code_points if {
	contract.valid with input as _emoji(256)
	contract.problems == {"subject.id"} with input as _emoji(257)
}

_spiffe(id) := object.union(_least, {"credential": {"type": "mtls", "spiffe_id": id}})

_ip(address) := object.union(_least, {"network": {"ip": address}})

# JavaScript's "." stops at every line terminator, RE2's only at \n: the generated pattern says which.
test_patterns_match_as_the_sdk_matches if {
	contract.valid with input as _spiffe("spiffe://example.org/a b")
	every id in ["spiffe://example.org/a\nb", "spiffe://example.org/a\rb", "spiffe://example.org/a\u2028b", "spiffe://"] {
		contract.problems == {"credential.spiffe_id"} with input as _spiffe(id)
	}
	every address in ["10.0.0.1", "::1", "2001:db8::1"] {
		contract.valid with input as _ip(address)
	}
	every address in ["10.0.0.01", "::1\n", "1::2::3", "fe80::1%eth0"] {
		contract.problems == {"network.ip"} with input as _ip(address)
	}
}

# Addresses are checked without a regular expression (OPA's wasm would compile it on every
# evaluation), by the rules of the address pattern: every form it takes, and its near misses.
test_addresses_are_judged_as_the_pattern_judges_them if {
	every address in [
		"0.0.0.0", "255.255.255.255", "1:2:3:4:5:6:7:8", "::", "1::", "::8", "1:2:3:4:5:6:7::",
		"::2:3:4:5:6:7:8", "1::8", "a:B:c:D:e:F:0:ffff", "::ffff:198.51.100.7",
		"1:2:3:4:5:6:1.2.3.4", "::1.2.3.4", "64:ff9b::198.51.100.7", "1:2:3:4:5::1.2.3.4",
	] {
		contract.valid with input as _ip(address)
	}
	every address in [
		"", ".", ":", ":::", "1:::2", "256.0.0.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.04", "1.2.3.x",
		"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"12345::", "g::", "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4",
		"1:2:3:4:5:6::1.2.3.4", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "::ffff:256.1.1.1",
		"1::2:", "\u0661.2.3.4",
	] {
		contract.problems == {"network.ip"} with input as _ip(address)
	}
}
