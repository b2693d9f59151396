package stepup.envoy.jwt_test

import data.stepup.envoy.jwt
import data.stepup.envoy.keys_test as keys

_now := 1795852800

_claims := {
	"iss": "https://idp.test",
	"aud": "api://test",
	"sub": "alice@example.com",
	"iat": _now - 30,
	"exp": _now + 3600,
	"jti": "j1",
}

_options := {
	"jwks": {"keys": [keys.es256_public, keys.rsa_public, keys.ed_public, keys.es384_public, keys.es512_public]},
	"issuers": ["https://idp.test"],
	"audiences": ["api://test"],
	"algorithms": jwt.default_algorithms,
	"typ": "at+jwt",
	"required": ["iss", "exp", "aud", "sub", "iat", "jti"],
	"tolerance": 60,
	"max_age": null,
	"now": _now,
}

_sign(alg, key, claims) := io.jwt.encode_sign({"alg": alg, "kid": key.kid, "typ": "at+jwt"}, claims, key)

_es(claims) := _sign("ES256", keys.es256_private, claims)

test_success_every_accepted_algorithm if {
	every pair in [
		["ES256", keys.es256_private], ["ES384", keys.es384_private], ["ES512", keys.es512_private],
		["RS256", keys.rsa_private], ["RS384", keys.rsa_private], ["RS512", keys.rsa_private],
		["PS256", keys.rsa_private], ["PS384", keys.rsa_private], ["PS512", keys.rsa_private],
		["EdDSA", keys.ed_private],
	] {
		verified := jwt.verify(_sign(pair[0], pair[1], _claims), _options)
		verified == {"status": "ok", "header": {"alg": pair[0], "kid": pair[1].kid, "typ": "at+jwt"}, "claims": _claims}
	}
}

test_fail_signed_by_another_key_with_the_same_kid if {
	jwt.verify(_sign("ES256", keys.other_es256_private, _claims), _options) == {"status": "invalid"}
}

test_fail_tampered_payload if {
	[header, _, signature] := split(_es(_claims), ".")
	forged := base64url.encode_no_pad(json.marshal(object.union(_claims, {"sub": "mallory"})))
	jwt.verify(concat(".", [header, forged, signature]), _options).status == "invalid"
}

test_fail_unsigned_and_symmetric_tokens if {
	header := base64url.encode_no_pad(`{"alg":"none","typ":"at+jwt"}`)
	none := concat(".", [header, base64url.encode_no_pad(json.marshal(_claims)), ""])
	jwt.verify(none, _options).status == "invalid"
	hs := io.jwt.encode_sign({"alg": "HS256", "typ": "at+jwt"}, _claims, {"kty": "oct", "k": "c2VjcmV0"})
	jwt.verify(hs, _options).status == "invalid"
}

test_fail_algorithm_not_configured if {
	jwt.verify(_es(_claims), object.union(_options, {"algorithms": ["RS256"]})).status == "invalid"
}

test_fail_malformed_and_oversized if {
	jwt.verify("not.a-token", _options).status == "invalid"
	jwt.verify("a.b.c.d", _options).status == "invalid"
	padding := concat("", [c | some _ in numbers.range(1, jwt.max_length); c := "A"])
	jwt.verify(concat("", [_es(_claims), padding]), _options).status == "invalid"
}

test_success_key_chosen_by_kid_kty_use_and_curve if {
	jwks := {"keys": [
		object.union(keys.rsa_public, {"kid": "es256"}),
		object.union(keys.other_es256_public, {"kid": "x"}),
		object.union(keys.es384_public, {"kid": "es256"}),
		object.union(keys.es256_public, {"use": "sig", "alg": "ES256", "key_ops": ["verify"]}),
	]}
	jwt.verify(_es(_claims), object.union(_options, {"jwks": jwks})).status == "ok"
}

test_fail_key_not_for_signatures if {
	every key in [
		object.union(keys.es256_public, {"use": "enc"}),
		object.union(keys.es256_public, {"alg": "ES384"}),
		object.union(keys.es256_public, {"key_ops": ["encrypt"]}),
	] {
		jwt.verify(_es(_claims), object.union(_options, {"jwks": {"keys": [key]}})).status == "invalid"
	}
}

test_success_token_without_kid if {
	token := io.jwt.encode_sign({"alg": "ES256", "typ": "at+jwt"}, _claims, keys.es256_private)
	jwt.verify(token, _options).status == "ok"
}

test_fail_claims_in_jose_order if {
	jwt.claims_status({"typ": "JWT"}, _claims, _options) == "invalid"
	jwt.claims_status({}, _claims, _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.remove(_claims, ["jti"]), _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"iss": "https://evil.test"}), _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"aud": "api://other"}), _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"aud": ["api://other"]}), _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"aud": 7}), _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"iat": "yesterday"}), _options) == "invalid"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"nbf": _now + 61}), _options) == "invalid"
}

test_success_claims_with_tolerance_and_typ_forms if {
	jwt.claims_status({"typ": "application/AT+JWT"}, _claims, _options) == "ok"
	early := object.union(_claims, {"aud": ["x", "api://test"], "nbf": _now + 59})
	jwt.claims_status({"typ": "at+jwt"}, early, _options) == "ok"
	jwt.claims_status({}, _claims, object.union(_options, {"typ": null, "audiences": null})) == "ok"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"exp": _now - 59}), _options) == "ok"
}

test_fail_expired_once_tolerance_is_past if {
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"exp": _now - 60}), _options) == "expired"
	jwt.verify(_es(object.union(_claims, {"exp": _now - 600})), _options) == {"status": "expired"}
}

test_fail_expired_wins_only_after_other_claims if {
	claims := object.union(_claims, {"exp": _now - 600, "iss": "https://evil.test"})
	jwt.claims_status({"typ": "at+jwt"}, claims, _options) == "invalid"
}

test_fail_statement_older_than_max_age if {
	options := object.union(_options, {"max_age": 86400})
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"iat": (_now - 86400) - 61}), options) == "expired"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"iat": (_now - 86400) - 59}), options) == "ok"
	jwt.claims_status({"typ": "at+jwt"}, object.union(_claims, {"iat": _now + 61}), options) == "invalid"
	no_iat := object.remove(_claims, ["iat"])
	jwt.claims_status({"typ": "at+jwt"}, no_iat, object.union(options, {"required": []})) == "invalid"
}
