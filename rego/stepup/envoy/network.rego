# Network at the edge
#
# The client address is the source address Envoy reports (Envoy applies its own trusted-proxy
# rules to X-Forwarded-For). Its zone comes from CIDRs in data (corporate, known, otherwise
# external); reputation and anonymizer from address lists in data, the worst list that holds
# the address winning, clean when relevant lists exist and none holds it, unknown otherwise.
# The edge has no ASN database, so the ASN is unknown.
package stepup.envoy

_network_settings := object.get(settings, "network", {})

_reputation_rank := {"good": 0, "neutral": 1, "suspicious": 2, "malicious": 3}

_anonymizer_rank := {"none": 0, "hosting": 1, "vpn": 2, "proxy": 3, "tor": 4}

# METADATA
# description: The network part of the input.
# scope: document
default network := {"ip": null, "zone": null, "reputation": null, "anonymizer": null, "asn": null}

network := {
	"ip": client_ip,
	"zone": _zone,
	"reputation": _worst("reputation", _reputation_rank, "neutral"),
	"anonymizer": _worst("anonymizer", _anonymizer_rank, "none"),
	"asn": null,
} if {
	not is_null(client_ip)
}

_source := input.attributes.source.address.socketAddress.address

# METADATA
# description: The client's address in canonical form (IPv4-mapped IPv6 as IPv4), or null.
# scope: document
default client_ip := null

client_ip := _source if {
	_is_ipv4(_source)
} else := mapped if {
	mapped := regex.find_all_string_submatch_n(`^(?i)::ffff:(\d{1,3}(?:\.\d{1,3}){3})$`, _source, 1)[0][1]
	_is_ipv4(mapped)
} else := lower(_source) if {
	is_string(_source)
	count(_source) <= 64
	contains(_source, ":")
	not contains(_source, "%")
	net.cidr_is_valid(concat("", [_source, "/128"]))
}

_is_ipv4(address) if regex.match(`^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$`, address)

default _zone := "external"

_zone := "corporate" if {
	_in_any(object.get(_network_settings, "corporate", []))
} else := "known" if {
	_in_any(object.get(_network_settings, "known", []))
}

# An address list is an array (a bare address stands for itself, and each CIDR is tested in
# turn: fine for tens of entries) or indexed by family and prefix length, each network's base
# address a key (src/contracts/address-index.ts): the client's network at each length present
# is looked up, so the cost follows the lengths present, not the entries.
_in_any(cidrs) if client_ip in cidrs

_in_any(cidrs) if {
	is_array(cidrs)
	some cidr in cidrs
	contains(cidr, "/")
	net.cidr_contains(cidr, client_ip)
}

_in_any(cidrs) if {
	is_object(cidrs)
	some length, bases in object.get(cidrs, _family, {})
	bases[_client_networks[length]]
}

default _family := "ipv6"

_family := "ipv4" if _is_ipv4(client_ip)

# Every prefix length some indexed list holds for the client's family.
_indexed_lengths contains length if {
	some cidrs in array.concat(
		[object.get(_network_settings, "corporate", []), object.get(_network_settings, "known", [])],
		[list.cidrs | some list in _lists],
	)
	is_object(cidrs)
	some length, _ in object.get(cidrs, _family, {})
}

# The client's network base at each of those lengths, as OPA writes it (host bits zero).
_client_networks[length] := base if {
	some length in _indexed_lengths
	some network in net.cidr_merge([concat("/", [client_ip, length])])
	base := split(network, "/")[0]
}

_lists := object.get(_network_settings, "lists", [])

default _worst(_, _, _) := null

# The worst value among the lists holding the address; clean when lists of that kind exist and none holds it.
_worst(key, rank, clean) := value if {
	ranks := {rank[list[key]] |
		some list in _lists
		is_string(list[key])
		_in_any(list.cidrs)
	}
	count(ranks) > 0
	some value, r in rank
	r == max(ranks)
} else := clean if {
	some list in _lists
	is_string(list[key])
}
