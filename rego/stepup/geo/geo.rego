# METADATA
# title: Geography
# description: |
#   Impossible travel, judged from the great-circle distance the SDK computed (Rego has no
#   trigonometry) and the time since the previous login. GeoIP places are uncertain, so both
#   accuracy radii are taken off the distance before speed is worked out, and short hops never
#   count. Anonymizing egress moves the apparent place, so a jump seen through one is never read as
#   travel: it is reported as unverifiable instead, and no hard stop follows from it.
package stepup.geo

import data.stepup.arith
import data.stepup.config
import data.stepup.network

# METADATA
# title: Impossible travel
# description: |
#   Since the previous login the person would have moved faster than an airliner flies, even
#   after taking off the places' uncertainty.
# custom:
#   code: geo.impossible_travel
#   controls: [DE.CM-03, PR.AA-03]
signals contains "geo.impossible_travel" if {
	_too_fast
	not _anonymized
}

# METADATA
# title: Travel not verifiable
# description: |
#   The place jumped too far too fast, but one of the two logins came through an anonymizer, so
#   the jump may be the anonymizer's egress rather than travel.
# custom:
#   code: geo.travel_unverifiable
#   controls: [DE.CM-03, PR.AA-03]
signals contains "geo.travel_unverifiable" if {
	_too_fast
	_anonymized
}

# METADATA
# title: Restricted country
# description: The request comes from a country the organisation restricts access from.
# custom:
#   code: geo.restricted_country
#   controls: [PR.AA-05, DE.CM-01]
signals contains "geo.restricted_country" if config.geo.restricted_countries[input.geo.country]

# An unknown accuracy radius counts as the default one.
_radius(km) := km if {
	is_number(km)
} else := config.geo.default_accuracy_km if {
	is_null(km)
}

# The distance the person certainly moved: the measured one less both places' accuracy radii.
# Radii only shorten it, so a measured distance under the minimum needs no arithmetic at all.
_certain_km := (distance - _radius(input.geo.accuracy_km)) - _radius(input.geo.previous.accuracy_km) if {
	distance := input.geo.distance_km
	is_number(distance)
	distance >= config.geo.min_distance_km
}

default _too_fast := false

# Far enough to matter and faster than the maximum speed (compared without division).
_too_fast if {
	_certain_km >= config.geo.min_distance_km

	# perf: stepup.arith, measured (docs/performance.md)
	_certain_km * 3600 > config.geo.max_speed_kmh * arith.larger(input.now - input.geo.previous.time, 1)
}

default _anonymized := false

_anonymized if network.is_anonymized

_anonymized if input.geo.previous.anonymized == true
