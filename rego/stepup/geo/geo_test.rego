package stepup.geo_test

import data.stepup.geo

_now := 1795852800

# A login `distance` km from the previous one, `elapsed` seconds later, places known to `accuracy` km.
_trip(distance, elapsed, accuracy, anonymizer, previous_anonymized) := {
	"now": _now,
	"network": {"anonymizer": anonymizer},
	"geo": {
		"country": "JP", "accuracy_km": accuracy, "distance_km": distance,
		"previous": {"country": "FR", "accuracy_km": accuracy, "time": _now - elapsed, "anonymized": previous_anonymized},
	},
}

test_paris_to_tokyo_in_an_hour_is_impossible if {
	geo.signals == {"geo.impossible_travel"} with input as _trip(9700, 3600, 20, "none", false)
}

test_paris_to_tokyo_in_a_day_is_possible if {
	geo.signals == set() with input as _trip(9700, 86400, 20, "none", false)
}

test_short_hops_never_count if {
	# 450 km in ten minutes would be 2,700 km/h, but it is under the minimum distance.
	geo.signals == set() with input as _trip(450, 600, 1, "none", false)
}

test_accuracy_radii_are_taken_off_the_distance if {
	# 1,200 km apart, but each place is only known to 400 km: 400 km certain, under the minimum.
	geo.signals == set() with input as _trip(1200, 600, 400, "none", false)
	geo.signals == {"geo.impossible_travel"} with input as _trip(1200, 600, 10, "none", false)
}

test_unknown_accuracy_counts_as_the_default_radius if {
	# 590 km less twice the default 50 km is 490 km, under the 500 km minimum.
	geo.signals == set() with input as _trip(590, 60, null, "none", false)
	geo.signals == {"geo.impossible_travel"} with input as _trip(610, 60, null, "none", false)
}

test_anonymizer_egress_is_not_read_as_travel if {
	geo.signals == {"geo.travel_unverifiable"} with input as _trip(9700, 3600, 20, "vpn", false)
	geo.signals == {"geo.travel_unverifiable"} with input as _trip(9700, 3600, 20, "tor", false)
}

test_previous_anonymized_login_is_not_read_as_travel if {
	geo.signals == {"geo.travel_unverifiable"} with input as _trip(9700, 3600, 20, "none", true)
}

_here(country, anonymizer) := {
	"now": _now,
	"network": {"anonymizer": anonymizer},
	"geo": {"country": country, "distance_km": null, "previous": null},
}

test_no_previous_login_no_travel if {
	geo.signals == set() with input as _here("JP", "none")
	geo.signals == set() with input as {"now": _now, "network": {"anonymizer": "none"}, "geo": null}
}

test_previous_time_in_the_future_counts_as_no_time if {
	geo.signals == {"geo.impossible_travel"} with input as _trip(9700, -60, 20, "none", false)
}

test_restricted_country if {
	geo.signals == {"geo.restricted_country"} with input as _here("KP", null)
		with data.stepup.config.geo.restricted_countries as {"KP": true}
	geo.signals == set() with input as _here("FR", null)
		with data.stepup.config.geo.restricted_countries as {"KP": true}
}
