# Test keys for the edge's JWT verification: one per algorithm family and curve, generated for
# these tests only (never used anywhere else), private halves to sign, public halves to verify.
package stepup.envoy.keys_test

es256_private := {
	"kty": "EC",
	"x": "l-s0PQbPnLe1vHZiPLLzldCij7nk2iXILFPLOSZX0Gs",
	"y": "ZkYUCEesKQ9gZ-6KKa_p2qQzcPLF2bBLnfaWwGgpF8g",
	"crv": "P-256",
	"d": "Ra_viP0fi06yq1oFbPvXt9XDvMv8_IVRPn6Wezm1I8c",
	"kid": "es256",
}

es256_public := {
	"kty": "EC",
	"x": "l-s0PQbPnLe1vHZiPLLzldCij7nk2iXILFPLOSZX0Gs",
	"y": "ZkYUCEesKQ9gZ-6KKa_p2qQzcPLF2bBLnfaWwGgpF8g",
	"crv": "P-256",
	"kid": "es256",
}

es384_private := {
	"kty": "EC",
	"x": "g73LrhN2UtA-PL6Yb9uRuWX9uUXC5E1heuXdrPRdAscw3xiSpOpDjawalL3MwEtJ",
	"y": "Vh4RufS1SFu72H-F7_CdQ8dD9vMkjt1XmS9QFUvnp-t3XgdcKw8dZWxKWEqOVOPJ",
	"crv": "P-384",
	"d": "zGfoYpRR9ckHgal3MbrIx4Vw53umdR-rB8jVZMVr36nzTvw3ez8eYRJdtr5_jQt7",
	"kid": "es384",
}

es384_public := {
	"kty": "EC",
	"x": "g73LrhN2UtA-PL6Yb9uRuWX9uUXC5E1heuXdrPRdAscw3xiSpOpDjawalL3MwEtJ",
	"y": "Vh4RufS1SFu72H-F7_CdQ8dD9vMkjt1XmS9QFUvnp-t3XgdcKw8dZWxKWEqOVOPJ",
	"crv": "P-384",
	"kid": "es384",
}

es512_private := {
	"kty": "EC",
	"x": "AUIxFl0p_KsrJ7Z3Uv8ssQ5pMB1kce910Zqo9rji8O9bUnKO7CCxZRHk5-_KHvF0s_lCwYeyqNZsWQqaSRbGhFmK",
	"y": "AIKPMzAA7fMe8Bf_LKW557TorJ_zpNVlDXnY9qecosAbah3gLyv-WZ_TIlw1Dh0P8eIlxhRXqFbL7DCjliRs_PFD",
	"crv": "P-521",
	"d": "ACRDl2zwNJP6vKZHd4nv9dY7_epvxuEwKg-KwDloB9j7qeWl9FTLpyfX5rxiB-QZN3YJzY_XC4AoIx14x0yZ6wbI",
	"kid": "es512",
}

es512_public := {
	"kty": "EC",
	"x": "AUIxFl0p_KsrJ7Z3Uv8ssQ5pMB1kce910Zqo9rji8O9bUnKO7CCxZRHk5-_KHvF0s_lCwYeyqNZsWQqaSRbGhFmK",
	"y": "AIKPMzAA7fMe8Bf_LKW557TorJ_zpNVlDXnY9qecosAbah3gLyv-WZ_TIlw1Dh0P8eIlxhRXqFbL7DCjliRs_PFD",
	"crv": "P-521",
	"kid": "es512",
}

rsa_private := {
	"kty": "RSA",
	"n": "vg_ICJMz_Qra-TrYswLhrAztsTuSLMezHkUKGH8YZuWzLpTzHdCmuBFfX76-IZ1L5NYflLeWjV2Y3YW9ziBcUH-QKbW_TxRMK-W04KmHy4cwhjYQPF03H1YZAzv0cjpUCmhgl4xhZhVqlPML-Q6iorAKSLSZVmwSXY7sSm1J6Dkv0ZMjMDgE9OP4fU52RY3sseTQPqzAovANXjA_-9RaL2KdXBF9yPKDsDAFxd5PfZ-l7ypbgKTcdwD-MBKIiNWjwCPpp6HaMPWulsNd9Rs7QkHmjrVUILNCy0Uuuc0hSO6EpwJLZ2I8A-uZ4qfuocTvARopHffseufrU9cGoR1OMw",
	"e": "AQAB",
	"d": "Li0iYeb1uhRRmDzSWkeocYcglq9M9-E65O9MISB72sAS9Q3ONV-0qcLaw6XRhtQzFLFrMdQa2VS0p5lvQG2_T_V2HpQgG0Por7-a3vyBWBML2Ie5ERlqo4vk_tKptLj0IyUx1pAON-GbJ_4W2hdSrykLDpgGKyeNnLp1MS31R1x2QoF9jt00whgseKtTKN0sX1yzgg2iuMwJ6Q3O0iw4AXDoZ7bG4mXNJScFGdSKc6q7gseHdU5rjgvg5KtfW0NO8k2jSBUpQ-FCTIgsRVjY2YdOf_ICH9RPXqW09VMiM6gucBcRGIEpe95-E0i9qcl3bKDagxh9qDmVjgQFkBpZeQ",
	"p": "4-v3d6oIbG8Fd0hjyOMQpqB88maNIHX01Qmdh3OQ6HrYYDoPsbJiTF4yMD6395flxJ_wPOlLSrGQNe3pXycN-NTcwdkolxXw-I5XCtgjzNS2YY6l3WbgGHWdQ-wArq_hyXprTMsOmE4n5QLZDQWSkA2GM89E6NPmctVObNyRfjk",
	"q": "1XnPV-Gf5dYr1IhnhEdSB0iHDTzbb1s3lMK2C8J9JRFFQlcRslg6_p9U3hueYFGfLAHRxz4ky8fgnvYuNa3qAbKWBCBNjo7wg64roWVhH8j0CIeAFIRLbLiInKQK-2yILwC8wi5JG9G9iJVSgPEDddY5LBf2S85w3qrmNnwf78s",
	"dp": "WiWdZm4RENpEfi5akT0F-_GkGbfn_7vHz28TKFzUJq9X3493X6AfcvcawKw91Sb2EPP1cBIR3oQmdr4XvLPUueNvQRikDkX2XkjmMnrUhhJn5GQoRE6JOgNi5Vd12aHlGuxZfjEeH61h6BldQeI_WsyOlPVY2wHctvSZJUOEJDk",
	"dq": "T71QVeNRduipNpo9EIwTd-T_jVJOJSpNeKPCnGHpnQ72b_FWCugqITIi4VQvtIrIigej9GiiFfxzSu1qFWMBJeEvaBso3TdHX-iPI5pazSSjAwyaKw-_nLzRSrF76K6BsAz2dRIU_O87fOlKCB_-yuVaNb49odNbFdGAbJmw1EE",
	"qi": "XaJdP9GYNWFkHbTCPyP09tYCd4eLqsnDGWINSQzwPNE_oRjllhmrQ9Ot9gJg7x13tkb7GxdxncGuytwTmdgslKtynY7IBBgrnrTn7p_LzUeNL5EBT9RUGguSQIT5vX4FS7iUhrReF_IOspriOyhxREVPApKDEGIR6vup1nRBscs",
	"kid": "rsa",
}

rsa_public := {
	"kty": "RSA",
	"n": "vg_ICJMz_Qra-TrYswLhrAztsTuSLMezHkUKGH8YZuWzLpTzHdCmuBFfX76-IZ1L5NYflLeWjV2Y3YW9ziBcUH-QKbW_TxRMK-W04KmHy4cwhjYQPF03H1YZAzv0cjpUCmhgl4xhZhVqlPML-Q6iorAKSLSZVmwSXY7sSm1J6Dkv0ZMjMDgE9OP4fU52RY3sseTQPqzAovANXjA_-9RaL2KdXBF9yPKDsDAFxd5PfZ-l7ypbgKTcdwD-MBKIiNWjwCPpp6HaMPWulsNd9Rs7QkHmjrVUILNCy0Uuuc0hSO6EpwJLZ2I8A-uZ4qfuocTvARopHffseufrU9cGoR1OMw",
	"e": "AQAB",
	"kid": "rsa",
}

ed_private := {
	"crv": "Ed25519",
	"d": "-U7ahCn9lCO6TarmLqNnr76BNDzjXigKVNa56xVSWLQ",
	"x": "5K6HnBYNW5A51bJjcjPsRLj5mrDNeLuIFCcIU26UPIs",
	"kty": "OKP",
	"kid": "ed",
}

ed_public := {
	"crv": "Ed25519",
	"x": "5K6HnBYNW5A51bJjcjPsRLj5mrDNeLuIFCcIU26UPIs",
	"kty": "OKP",
	"kid": "ed",
}

other_es256_private := {
	"kty": "EC",
	"x": "-2pQOyUQbs9_SFIKxhCdOdFoo3u94kM5PFm3WfUAghg",
	"y": "n7I9AA86-6XQxOcblsY2ys2Pu6QulMaOsnGq1S3lmQ4",
	"crv": "P-256",
	"d": "07RIjPl8oAr9LolK3Z4bSRhUbYHgA9WYMEQf4bLKFiM",
	"kid": "es256",
}

other_es256_public := {
	"kty": "EC",
	"x": "-2pQOyUQbs9_SFIKxhCdOdFoo3u94kM5PFm3WfUAghg",
	"y": "n7I9AA86-6XQxOcblsY2ys2Pu6QulMaOsnGq1S3lmQ4",
	"crv": "P-256",
	"kid": "es256",
}

# A client certificate for spiffe://example.org/billing, valid 2026-11-28 07:50 to 08:50 UTC.
billing_svid := `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgICEAAwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOc3RlcHVw
IHRlc3QgQ0EwHhcNMjYxMTI4MDc1MDAwWhcNMjYxMTI4MDg1MDAwWjARMQ8wDQYD
VQQDDAZwZWVyLTAwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR3TsGr7zDoLq0n
dHH+Fo40J8wb512/yXkxM0zdkd28/S9j8kyx+ghrmcXk7RALCeSN3w0IJmsX6SXx
asFoMR31o4GAMH4wJwYDVR0RBCAwHoYcc3BpZmZlOi8vZXhhbXBsZS5vcmcvYmls
bGluZzATBgNVHSUEDDAKBggrBgEFBQcDAjAdBgNVHQ4EFgQUYJ9wD5cbcFW5rsbd
RT0oDAogAOEwHwYDVR0jBBgwFoAU1BXTYO6JY8HjtLTqfc5y5VltqhwwCgYIKoZI
zj0EAwIDSAAwRQIgPT273+AaWaDcSHtM+0zlXzmSGSE9ebUE+J2ELVHl8zECIQCp
ifdYdFwjLw3UIjSg2LhetDeI+vsHEFJBBU9PB0NY4A==
-----END CERTIFICATE-----
`
