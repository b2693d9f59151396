# METADATA
# title: JWT verification at the edge
# description: |
#   Verifies a compact JWT as the SDK does with jose: an accepted asymmetric algorithm, a key of
#   the inline JWKS that suits the token's header, the signature, then the claims in jose's order
#   (typ, required claims, iss, aud, numeric dates, nbf, exp, the token's age), with a clock
#   tolerance. The answer says whether the token verified, expired or is invalid; the claims of a
#   token that did not verify are never handed out.
package stepup.envoy.jwt

# Asymmetric algorithms only: a shared secret has no place in a key set many parties read.
default_algorithms := [
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA", "Ed25519",
]

# Longer than any sane token; refused before parsing.
max_length := 16384

_kty := {
	"RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
	"PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
	"ES256": "EC", "ES384": "EC", "ES512": "EC",
	"EdDSA": "OKP", "Ed25519": "OKP",
}

_curves := {
	"ES256": {"P-256"}, "ES384": {"P-384"}, "ES512": {"P-521"},
	"EdDSA": {"Ed25519", "Ed448"}, "Ed25519": {"Ed25519"},
}

# METADATA
# description: |
#   The verdict on a token: {"status": "ok", "header": …, "claims": …}, {"status": "expired"} or
#   {"status": "invalid"}. `options` holds jwks, issuers, audiences (null for none), algorithms,
#   typ (null for any), required (claim names), tolerance and max_age (seconds, or null), now.
verify(token, options) := {"status": "ok", "header": header, "claims": claims} if {
	[header, claims] := _signed(token, options)
	claims_status(header, claims, options) == "ok"
} else := {"status": status} if {
	[header, claims] := _signed(token, options)
	status := claims_status(header, claims, options)
} else := {"status": "invalid"}

# The header and claims of a well-formed token whose signature verifies with a suitable key.
_signed(token, options) := [header, claims] if {
	count(token) <= max_length
	regex.match(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`, token)
	[header, claims, _] := io.jwt.decode(token)
	is_object(claims)
	header.alg in options.algorithms
	some key in options.jwks.keys
	suits(header, key)
	_signature_verifies(header.alg, token, json.marshal(key))
}

# METADATA
# description: The key may verify the token, as jose's local JWKS chooses keys (kty, kid, alg, use, key_ops, curve).
suits(header, key) if {
	key.kty == _kty[header.alg]
	_same_kid(header, key)
	object.get(key, "alg", header.alg) == header.alg
	object.get(key, "use", "sig") == "sig"
	_may_verify(key)
	_curve_fits(header.alg, key)
}

_same_kid(header, _) if not is_string(object.get(header, "kid", null))

_same_kid(header, key) if header.kid == key.kid

_may_verify(key) if not is_array(object.get(key, "key_ops", null))

_may_verify(key) if "verify" in key.key_ops

_curve_fits(alg, _) if not _curves[alg]

_curve_fits(alg, key) if key.crv in _curves[alg]

_signature_verifies(alg, token, key) if {
	alg in {"RS256", "RS384", "RS512"}
	_rs(alg, token, key)
}

_signature_verifies(alg, token, key) if {
	alg in {"PS256", "PS384", "PS512"}
	_ps(alg, token, key)
}

_signature_verifies(alg, token, key) if {
	alg in {"ES256", "ES384", "ES512"}
	_es(alg, token, key)
}

_signature_verifies(alg, token, key) if {
	alg in {"EdDSA", "Ed25519"}
	io.jwt.verify_eddsa(token, key)
}

_rs("RS256", token, key) if io.jwt.verify_rs256(token, key)

_rs("RS384", token, key) if io.jwt.verify_rs384(token, key)

_rs("RS512", token, key) if io.jwt.verify_rs512(token, key)

_ps("PS256", token, key) if io.jwt.verify_ps256(token, key)

_ps("PS384", token, key) if io.jwt.verify_ps384(token, key)

_ps("PS512", token, key) if io.jwt.verify_ps512(token, key)

_es("ES256", token, key) if io.jwt.verify_es256(token, key)

_es("ES384", token, key) if io.jwt.verify_es384(token, key)

_es("ES512", token, key) if io.jwt.verify_es512(token, key)

# METADATA
# description: The claims checked in jose's order; the first that fails names the status.
claims_status(header, claims, options) := "invalid" if {
	not _typ_fits(header, options.typ)
} else := "invalid" if {
	count(_required(options) - object.keys(claims)) > 0
} else := "invalid" if {
	not object.get(claims, "iss", null) in options.issuers
} else := "invalid" if {
	not _audience_fits(object.get(claims, "aud", null), options.audiences)
} else := "invalid" if {
	some name in ["iat", "nbf", "exp"]
	_not_a_number(claims, name)
} else := "invalid" if {
	claims.nbf > options.now + options.tolerance
} else := "expired" if {
	claims.exp <= options.now - options.tolerance
} else := "expired" if {
	is_number(options.max_age)
	(options.now - claims.iat) - options.tolerance > options.max_age
} else := "invalid" if {
	is_number(options.max_age)
	options.now - claims.iat < 0 - options.tolerance
} else := "ok"

_required(options) := (({name | some name in options.required} | {"iss"}) | _also_iat(options)) | _also_aud(options)

default _also_iat(_) := set()

_also_iat(options) := {"iat"} if is_number(options.max_age)

default _also_aud(_) := set()

_also_aud(options) := {"aud"} if is_array(options.audiences)

_typ_fits(_, wanted) if is_null(wanted)

_typ_fits(header, wanted) if {
	is_string(header.typ)
	_normal_typ(header.typ) == _normal_typ(wanted)
}

_normal_typ(typ) := trim_prefix(lower(typ), "application/")

_audience_fits(_, audiences) if is_null(audiences)

_audience_fits(aud, audiences) if {
	is_string(aud)
	aud in audiences
}

_audience_fits(aud, audiences) if {
	is_array(aud)
	some a in aud
	a in audiences
}

_not_a_number(claims, name) if {
	name in object.keys(claims)
	not is_number(claims[name])
}
