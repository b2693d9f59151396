package stepup.target_test

import data.stepup.target

test_catalog_tier_is_used if {
	target.tier == "standard" with input as {"target": {"app": "wiki", "action": "read"}}
	target.is_known with input as {"target": {"app": "wiki", "action": "read"}}
}

test_unknown_app_is_sensitive if {
	target.tier == "high" with input as {"target": {"app": "no-such-app", "action": "read"}}
	not target.is_known with input as {"target": {"app": "no-such-app", "action": "read"}}
	target.is_sensitive with input as {"target": {"app": "no-such-app", "action": "read"}}
}

test_action_floor_raises_tier if {
	target.tier == "critical" with input as {"target": {"app": "wiki", "action": "admin"}}
}

test_app_action_raises_tier if {
	target.tier == "critical" with input as {"target": {"app": "finance-ledger", "action": "write"}}
	target.tier == "high" with input as {"target": {"app": "finance-ledger", "action": "read"}}
}

test_action_never_lowers_app_tier if {
	target.tier == "critical" with input as {"target": {"app": "prod-secrets", "action": "read"}}
}

test_unknown_action_uses_app_tier if {
	target.tier == "low" with input as {"target": {"app": "intranet", "action": "frobnicate"}}
	not target.is_sensitive with input as {"target": {"app": "intranet", "action": "frobnicate"}}
}
