package stepup.target_test

import data.stepup.target

_on(app, action) := {"target": {"app": app, "action": action}}

test_catalog_tier_is_used if {
	target.tier == "standard" with input as _on("wiki", "read")
	target.tier == "low" with input as _on("intranet", "read")
	target.is_known with input as _on("wiki", "read")
}

test_unknown_app_is_sensitive if {
	target.tier == "high" with input as _on("no-such-app", "read")
	not target.is_known with input as _on("no-such-app", "read")
	target.is_sensitive with input as _on("no-such-app", "read")
	target.notes == {"target.unknown_app"} with input as _on("no-such-app", "read")
}

test_action_floor_raises_tier if {
	target.tier == "critical" with input as _on("wiki", "admin")
	target.tier == "standard" with input as _on("intranet", "write")
}

test_app_action_raises_tier if {
	target.tier == "critical" with input as _on("finance-ledger", "write")
	target.tier == "high" with input as _on("finance-ledger", "read")
}

test_classification_raises_tier if {
	target.tier == "critical" with input as _on("wiki", "read")
		with data.stepup.config.catalog.apps.wiki as {"tier": "standard", "classification": "restricted"}
}

test_action_never_lowers_app_tier if {
	target.tier == "critical" with input as _on("prod-secrets", "read")
}

test_unknown_action_uses_app_tier if {
	target.tier == "low" with input as _on("intranet", "frobnicate")
	not target.is_sensitive with input as _on("intranet", "frobnicate")
}

test_privileged_actions if {
	target.is_privileged with input as _on("wiki", "admin")
	target.is_privileged with input as _on("prod-secrets", "read")
	target.is_privileged with input as _on("payroll", "write")
	not target.is_privileged with input as _on("payroll", "read")
	target.notes == {"target.privileged_action"} with input as _on("crm", "export")
}
