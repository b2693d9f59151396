# The caller at the edge
#
# Who is asking: the subject of a bearer token that verified (an access token per RFC 9068, or
# an ID token), read exactly as the SDK reads it; without any token, the mTLS peer principal
# Envoy verified (a SPIFFE ID is a workload with an SVID, another principal a service with an
# mTLS certificate); otherwise anonymous. A token that does not verify is never read.
package stepup.envoy

import data.stepup.envoy.jwt

_anonymous := {
	"subject": {"id": "anonymous", "kind": "human", "roles": [], "groups": [], "tags": [], "privilege_granted_at": null},
	"session": null,
	"credential": null,
}

_session_settings := object.get(settings, "session", null)

_access if object.get(_session_settings, "token_kind", "access_token") == "access_token"

# RFC 9068 section 2.2: every access token carries these.
_required := ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] if _access

_required := ["iss", "exp", "aud", "sub", "iat"] if not _access

_authorization := header("authorization")

_bearer_pattern := `^(?i)Bearer +([A-Za-z0-9\-._~+/]+=*) *$`

# METADATA
# description: |
#   The bearer token: null for no Authorization header or another scheme, "" for a Bearer
#   credential that is not well formed (which is an invalid token, as in the SDK).
# scope: document
default bearer := ""

bearer := null if not _bearer_scheme

bearer := regex.find_all_string_submatch_n(_bearer_pattern, trim_space(_authorization), 1)[0][1] if _bearer_scheme

# Builtins are called on strings only: a type error on a missing header would cost more than the check.
_bearer_scheme if {
	is_string(_authorization)
	regex.match(`^(?i)bearer(\s|$)`, trim_left(_authorization, " \t\n\r"))
}

# METADATA
# description: none (no token, or no session settings), ok, expired or invalid.
token_status := "none" if {
	is_null(bearer)
} else := "none" if {
	is_null(_session_settings)
} else := "invalid" if {
	bearer == ""
} else := _verified.status

_verified := jwt.verify(bearer, {
	"jwks": _session_settings.jwks,
	"issuers": _list(_session_settings.issuer),
	"audiences": _list(_session_settings.audience),
	"algorithms": object.get(_session_settings, "algorithms", jwt.default_algorithms),
	"typ": _typ,
	"required": _required,
	"tolerance": object.get(_session_settings, "clock_tolerance", 60),
	"max_age": null,
	"now": now,
})

_typ := "at+jwt" if _access

_typ := null if not _access

_list(value) := value if is_array(value)

_list(value) := [value] if is_string(value)

# METADATA
# description: The subject, session and credential for the input.
caller := _from_token if {
	token_status == "ok"
} else := _from_principal if {
	is_null(bearer)
} else := _anonymous

_claims := _verified.claims

_token_subject := {
	"id": _claims.sub,
	"roles": _strings(object.get(_claims, "roles", null)),
	"groups": _strings(object.get(_claims, "groups", null)),
	"tags": [],
	"privilege_granted_at": null,
}

_from_token := {
	"subject": object.union(_token_subject, {"kind": "human"}),
	"session": _session,
	"credential": null,
} if {
	_valid_sub
	not _client_credentials
}

# RFC 9068 section 2.2: with no resource owner (client credentials) sub names the client.
_from_token := {
	"subject": object.union(_token_subject, {"kind": "service"}),
	"session": null,
	"credential": _client_credential,
} if {
	_valid_sub
	_client_credentials
}

_valid_sub if _text(_claims.sub, 256)

_client_credentials if {
	_access
	_claims.client_id == _claims.sub
	not "auth_time" in object.keys(_claims)
	not "acr" in object.keys(_claims)
}

_session := {
	"acr": _acr(object.get(_claims, "acr", null)),
	"amr": _amr(object.get(_claims, "amr", null)),
	"auth_time": unix_seconds(object.get(_claims, "auth_time", null)),
}

_client_credential := {
	"type": "oauth_client_credentials",
	"issued_at": unix_seconds(object.get(_claims, "iat", null)),
	"expires_at": unix_seconds(object.get(_claims, "exp", null)),
	"storage": null,
	"spiffe_id": null,
}

default _acr(_) := null

_acr(acr) := acr if _text(acr, 256)

default _amr(_) := null

_amr(amr) := amr if {
	is_array(amr)
	count(amr) <= 16
	every m in amr {
		_text(m, 64)
	}
}

# METADATA
# description: An integer number of Unix seconds within the contract's range, or null.
# scope: document
default unix_seconds(_) := null

unix_seconds(value) := value if {
	is_number(value)
	value == floor(value)
	value >= 0
	value <= 253402300799
}

_text(value, limit) if {
	is_string(value)
	count(value) > 0
	count(value) <= limit
}

# RFC 9068 section 2.2.3.1 (SCIM): a list of strings, or of objects carrying `value`.
_strings(value) := [text |
	some item in array.slice(value, 0, 64)
	text := _item_text(item)
	_text(text, 128)
] if {
	is_array(value)
}

_strings(value) := [] if not is_array(value)

_item_text(item) := item if is_string(item)

_item_text(item) := item.value if is_object(item)

_principal := input.attributes.source.principal

_spiffe if regex.match(`^spiffe://[^/]+(/.*)?$`, _principal)

_workloads := object.get(settings, "workloads", {})

_from_principal := {
	"subject": {"id": _principal, "kind": _peer_kind, "roles": [], "groups": [], "tags": [], "privilege_granted_at": null},
	"session": null,
	"credential": {
		"type": _peer_type,
		"issued_at": _certificate_time("NotBefore"),
		"expires_at": _certificate_time("NotAfter"),
		"storage": object.get(_workloads, "storage", null),
		"spiffe_id": _peer_spiffe_id,
	},
} if {
	_text(_principal, 256)
}

default _peer_kind := "service"

_peer_kind := "workload" if _spiffe

default _peer_type := "mtls"

_peer_type := "spiffe_svid" if _spiffe

default _peer_spiffe_id := null

_peer_spiffe_id := _principal if _spiffe

_certificates := crypto.x509.parse_certificates(urlquery.decode(input.attributes.source.certificate))

# Envoy sends the peer's certificate URL-encoded PEM (with include_peer_certificate).
default _certificate_time(_) := null

_certificate_time(field) := unix_seconds(time.parse_rfc3339_ns(_certificates[0][field]) / 1000000000)
