# METADATA
# title: Workload proof
# description: |
#   Services and workloads are never prompted: they either present the proof the target's tier
#   asks for or they are denied. Each tier names the credential types it accepts (workload proof
#   such as a SPIFFE SVID or mTLS on sensitive targets), a ceiling on the credential's lifetime,
#   and where the secret may live; the requirement lists what is missing.
package stepup.workload

import data.stepup.config
import data.stepup.exceptions
import data.stepup.target

_policy := config.workloads.tiers[target.tier]

# METADATA
# title: No credential
# description: The service or workload presented no credential.
# custom:
#   code: credential.missing
#   controls: [PR.AA-01, PR.AA-03]
raw_gaps contains "credential.missing" if is_null(input.credential)

# METADATA
# title: Credential type not accepted
# description: The target's tier does not accept this kind of credential; it asks for stronger workload proof.
# custom:
#   code: credential.type_not_accepted
#   controls: [PR.AA-01, PR.AA-03]
raw_gaps contains "credential.type_not_accepted" if {
	is_object(input.credential)
	not input.credential.type in _policy.proof
}

# METADATA
# title: Credential expired
# description: The credential's expiry time has passed.
# custom:
#   code: credential.expired
#   controls: [PR.AA-01]
raw_gaps contains "credential.expired" if {
	is_number(input.credential.expires_at)
	input.credential.expires_at <= input.now
}

# METADATA
# title: Credential lives too long
# description: |
#   The credential's lifetime is longer than the target's tier allows, it never expires, or when
#   it was issued is unknown: long-lived secrets are the ones that leak.
# custom:
#   code: credential.lifetime_exceeded
#   controls: [PR.AA-01]
raw_gaps contains "credential.lifetime_exceeded" if _lifetime > _policy.max_lifetime

raw_gaps contains "credential.lifetime_exceeded" if {
	is_object(input.credential)
	is_null(input.credential.expires_at)
}

raw_gaps contains "credential.lifetime_exceeded" if {
	is_object(input.credential)
	is_null(input.credential.issued_at)
}

# METADATA
# title: Secret stored insecurely
# description: |
#   The secret lives somewhere the target's tier does not allow, such as source code, a config
#   file or CI variables.
# custom:
#   code: credential.insecure_storage
#   controls: [PR.AA-01, PR.DS-01]
raw_gaps contains "credential.insecure_storage" if {
	is_string(input.credential.storage)
	not input.credential.storage in _policy.storage
}

raw_gaps contains "credential.insecure_storage" if {
	is_object(input.credential)
	is_null(input.credential.storage)
	not _policy.unknown_storage
}

# METADATA
# title: Untrusted SPIFFE ID
# description: The SVID's SPIFFE ID is missing or belongs to a trust domain that is not trusted.
# custom:
#   code: credential.spiffe_untrusted
#   controls: [PR.AA-01, PR.AA-03]
raw_gaps contains "credential.spiffe_untrusted" if {
	input.credential.type == "spiffe_svid"
	not _trusted_spiffe
}

# The lifetime from issue to expiry.
_lifetime := input.credential.expires_at - input.credential.issued_at if {
	is_number(input.credential.expires_at)
	is_number(input.credential.issued_at)
}

# spiffe://<trust domain>/<path>: the trust domain is the third part when split on "/".
_trusted_spiffe if config.workloads.spiffe_trust_domains[split(input.credential.spiffe_id, "/")[2]]

# METADATA
# description: What the credential lacks, less what an exception relaxes.
gaps := raw_gaps if {
	not exceptions.applies
} else := {gap | some gap in raw_gaps; not gap in exceptions.relaxes}

# METADATA
# description: The credential meets every part of the tier's requirement.
# scope: document
default satisfies := false

satisfies if count(gaps) == 0

# METADATA
# description: The requirement as the decision states it, with what is missing.
required := {
	"kind": "workload",
	"proof": _policy.proof,
	"max_lifetime": _policy.max_lifetime,
	"storage": _policy.storage,
	"missing": sort(gaps),
}
