# Device posture at the edge
#
# A signed posture statement (a JWT from an MDM) in a request header, verified against the
# issuer's keys in data, bound to the caller when configured, its claims mapped field by field
# as the SDK maps them. Missing, unsigned, expired, tampered or another subject's: unattested,
# every field unknown. Without device settings the device is unknown (null).
package stepup.envoy

import data.stepup.envoy.jwt

_device_settings := object.get(settings, "device", null)

_unattested := {
	"id": null, "attested": false, "managed": null, "compliant": null,
	"encrypted": null, "edr_running": null, "os_patch_age_days": null, "kind": null,
}

# The claim names read for each field, first present wins (the SDK's DEFAULT_POSTURE_CLAIMS).
_claim_names := {
	"id": ["device_id", "sub"],
	"managed": ["managed"],
	"compliant": ["compliant"],
	"encrypted": ["disk_encrypted", "encrypted"],
	"edr_running": ["edr_running"],
	"os_patch_age_days": ["os_patch_age_days"],
	"kind": ["device_kind"],
}

# METADATA
# description: The device part of the input.
device := null if {
	is_null(_device_settings)
} else := object.union_n([_unattested, _posture_fields, {"attested": true}]) if {
	_posture.status == "ok"
	_bound
} else := _unattested

_statement := header(lower(object.get(_device_settings, "header", "x-device-posture")))

_posture := jwt.verify(_statement, {
	"jwks": _device_settings.jwks,
	"issuers": _list(_device_settings.issuer),
	"audiences": _optional_list(object.get(_device_settings, "audience", null)),
	"algorithms": object.get(_device_settings, "algorithms", jwt.default_algorithms),
	"typ": null,
	"required": ["iss", "iat", "exp"],
	"tolerance": object.get(_device_settings, "clock_tolerance", 60),
	"max_age": object.get(_device_settings, "max_age", 86400),
	"now": now,
}) if {
	is_string(_statement)
	_statement != ""
}

_optional_list(value) := null if is_null(value)

else := _list(value)

_bound if is_null(object.get(_device_settings, "subject_claim", null))

_bound if {
	caller != _anonymous
	_posture.claims[_device_settings.subject_claim] == caller.subject.id
}

_posture_fields[field] := value if {
	some field, names in _claim_names
	present := [name | some name in names; name in object.keys(_posture.claims)]
	count(present) > 0
	value := _posture.claims[present[0]]
	_valid_field(field, value)
}

_valid_field("id", value) if _text(value, 256)

_valid_field(field, value) if {
	field in {"managed", "compliant", "encrypted", "edr_running"}
	is_boolean(value)
}

_valid_field("os_patch_age_days", value) if {
	is_number(value)
	value == floor(value)
	value >= 0
	value <= 36500
}

_valid_field("kind", value) if value in {"laptop", "desktop", "mobile", "shared", "server"}
