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

# METADATA
# description: The edge settings (keys, zones, lists, routes); none at all until a data bundle provides them.
# scope: document
default settings := {}

settings := data.stepup_envoy

_http := input.attributes.request.http

# METADATA
# description: What makes the CheckRequest unusable; a non-empty set fails closed.
# scope: document
problems contains "attributes.request.http.method" if not _non_empty(_request_field("method"))

problems contains "attributes.request.http.path" if not _non_empty(_request_field("path"))

problems contains "attributes.request.time" if not _has_now

_has_now if is_number(now)

# A field of the HTTP request, null when absent (a negated call on an absent value is undefined, not true).
_request_field(name) := object.get(input, ["attributes", "request", "http", name], null)

_time := object.get(input, ["attributes", "request", "time"], null)

# METADATA
# description: Evaluation time, from the time Envoy stamped on the request (the policy reads no clock).
# scope: document
now := seconds if {
	seconds := to_number(_time.seconds)
	seconds >= 0
	seconds <= 253402300799
	seconds == floor(seconds)
}

# protobuf leaves out fields at their default value: the epoch itself has no seconds.
now := 0 if {
	is_object(_time)
	not "seconds" in object.keys(_time)
}

_non_empty(value) if {
	is_string(value)
	value != ""
}

# METADATA
# description: A request header by lower-case name, as Envoy sends them; null when absent.
header(name) := value if {
	value := _http.headers[name]
	is_string(value)
} else := null

# METADATA
# description: |
#   The decision id: Envoy's request id (x-request-id), which its access logs also carry, so a
#   decision can be found from either side; a random UUID when Envoy sent none.
# scope: document
decision_id := _http.id if _non_empty(_request_field("id"))

decision_id := uuid.rfc4122(sprintf("%v %v", [_request_field("path"), _time])) if {
	not _non_empty(_request_field("id"))
}

# METADATA
# description: The revision of the stepup bundle, from its manifest as OPA stores it.
# scope: document
default revision := "unknown"

revision := min(revisions) if {
	revisions := {revision |
		some name, _ in data.system.bundles

		# Deep references: the manifest's code catalog is never copied out of the store.
		data.system.bundles[name].manifest.metadata.stepup.policy_version
		revision := data.system.bundles[name].manifest.revision
	}
	count(revisions) > 0
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
	"familiarity": _familiarity,
	"target": target,
}

# The plugin keeps no history: a caller's context is unknown (and counts as unfamiliar), but a
# request that names nobody has no history to compare with, as the SDK says of it.
default _familiarity := null

_familiarity := {"history": 0, "novelty": 0, "unfamiliar": []} if caller == _anonymous

# METADATA
# title: Envoy response
# description: The plugin's result (allowed, http_status, headers, body, dynamic_metadata).
# entrypoint: true
response := answer_failed if {
	not _decidable
} else := answer_invalid_token if {
	token_status in {"invalid", "expired"}
} else := answer

_decidable if {
	count(problems) == 0
	is_object(target)
}

# The same decision core as every other runtime, on the mapped input.
_verdict := verdict if {
	# regal ignore:with-outside-test-context
	verdict := data.stepup.decision with input as input_document
}
