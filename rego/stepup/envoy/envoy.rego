# METADATA
# title: Envoy ext_authz entrypoint
# description: |
#   For opa-envoy-plugin: maps Envoy's CheckRequest (the plugin's input) to stepup's input
#   document, runs the same decision core (data.stepup.decision) on it, and answers in the
#   plugin's result format. Signals the edge can establish: the source address (zones and lists
#   from data), a bearer token verified against keys in data, a device-posture statement verified
#   the same way, the mTLS peer principal (a SPIFFE ID for workloads). Geography and behaviour
#   are unknown (null) here. Settings live in data.stepup_envoy, a data bundle of their own.
# schemas:
#   - input: {"type": "object"}
# scope: package
package stepup.envoy

import data.stepup

# The edge settings (keys, zones, lists, routes); none at all until a data bundle provides them.
default settings := {}

settings := data.stepup_envoy

_http := input.attributes.request.http

# METADATA
# description: What makes the CheckRequest unusable; a non-empty set fails closed.
problems contains "attributes.request.http.method" if not _non_empty(_request_field("method"))

problems contains "attributes.request.http.path" if not _non_empty(_request_field("path"))

problems contains "attributes.request.time" if not _has_now

_has_now if is_number(now)

# A field of the HTTP request, null when absent (a negated call on an absent value is undefined, not true).
_request_field(name) := object.get(input, ["attributes", "request", "http", name], null)

# METADATA
# description: Evaluation time, from the time Envoy stamped on the request (the policy reads no clock).
now := to_number(input.attributes.request.time.seconds) if {
	seconds := to_number(input.attributes.request.time.seconds)
	seconds >= 0
	seconds <= 253402300799
	seconds == floor(seconds)
}

# protojson leaves out fields at their default value: the epoch itself has no seconds.
now := 0 if {
	is_object(input.attributes.request.time)
	not "seconds" in object.keys(input.attributes.request.time)
}

_non_empty(value) if {
	is_string(value)
	value != ""
}

# METADATA
# description: Request headers by lower-case name, as Envoy sends them; absent ones are null.
header(name) := value if {
	value := _http.headers[name]
	is_string(value)
} else := null

# METADATA
# description: |
#   The decision id: Envoy's request id (x-request-id), which its access logs also carry, so a
#   decision can be found from either side; a random UUID when Envoy sent none.
decision_id := _http.id if _non_empty(_request_field("id"))

decision_id := uuid.rfc4122(sprintf("%v %v", [_request_field("path"), object.get(input, ["attributes", "request", "time"], null)])) if {
	not _non_empty(_request_field("id"))
}

# METADATA
# description: The revision of the stepup bundle, from its manifest as OPA stores it.
default revision := "unknown"

revision := min(revisions) if {
	revisions := {manifest.revision | some manifest in _stepup_manifests}
	count(revisions) > 0
}

_stepup_manifests contains manifest if {
	some bundle in data.system.bundles
	manifest := bundle.manifest
	manifest.metadata.stepup
}

# METADATA
# title: Mapped input
# description: The input document the CheckRequest maps to, exactly as the SDK would validate it.
# entrypoint: true
input_document := {
	"version": 1,
	"now": now,
	"subject": caller.subject,
	"session": caller.session,
	"credential": caller.credential,
	"device": device,
	"network": network,
	"geo": null,
	"behavior": null,
	"target": target,
}

# METADATA
# title: Envoy response
# description: The plugin's result (allowed, http_status, headers, body, dynamic_metadata).
# entrypoint: true
response := answer_failed if {
	not _decidable
} else := answer_invalid_token if {
	token_status in {"invalid", "expired"}
} else := answer(_verdict)

_decidable if {
	count(problems) == 0
	is_object(target)
}

default _verdict := null

_verdict := verdict if {
	verdict := stepup.decision with input as input_document
}
