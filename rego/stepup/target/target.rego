# METADATA
# title: Target sensitivity
# description: |
#   The tier of the target (low, standard, high, critical) and whether the action is privileged.
#   Both come from the app catalog in the bundle's data, never from the caller: the app's own tier,
#   its data classification, the action's floor everywhere and the app's tier for that action
#   each set a floor, and the highest wins. An app missing from the catalog is treated as sensitive.
package stepup.target

import data.stepup.arith
import data.stepup.config

_app := config.catalog.apps[input.target.app]

# METADATA
# description: The app is in the bundle's catalog.
# scope: document
default is_known := false

is_known if _app

# METADATA
# description: The tier's rank, 0 (low) to 3 (critical); the highest of the floors.
rank := highest if {
	# One body with object.get defaults rather than a rule per floor: in OPA's wasm each rule
	# costs a call and a memo entry, and these floors are read only here.
	catalog := config.catalog
	ranks := config.tiers.rank
	app := catalog.apps[input.target.app]
	classification_floor := object.get(catalog.classification_floors, object.get(app, "classification", null), "low")
	action_floor := object.get(catalog.action_floors, input.target.action, "low")
	app_action_tier := object.get(app, ["actions", input.target.action], "low")
	highest := _highest(ranks[app.tier], ranks[classification_floor], ranks[action_floor], ranks[app_action_tier])
} else := highest if {
	# An app missing from the catalog has no classification and no tiers of its own.
	catalog := config.catalog
	ranks := config.tiers.rank
	action_floor := object.get(catalog.action_floors, input.target.action, "low")

	# perf: stepup.arith, measured (docs/performance.md)
	highest := arith.larger(ranks[catalog.unknown_app_tier], ranks[action_floor])
}

# perf: stepup.arith, measured (docs/performance.md)
_highest(a, b, c, d) := arith.larger(arith.larger(a, b), arith.larger(c, d))

# METADATA
# description: The tier's name.
tier := config.tiers.names[rank]

# METADATA
# description: High and critical targets are sensitive; hard stops and fail-closed apply to them.
# scope: document
default is_sensitive := false

is_sensitive if rank >= config.tiers.rank.high

# METADATA
# description: The action is privileged everywhere (admin, approve, …) or on this app (writes to secrets, …).
# scope: document
default is_privileged := false

is_privileged if config.catalog.privileged_actions[input.target.action]

is_privileged if _app.privileged_actions[input.target.action]

# METADATA
# title: Unknown application
# description: The application is not in the catalog, so it is treated as sensitive.
# custom:
#   code: target.unknown_app
#   controls: [PR.AA-05, ID.AM-02]
notes contains "target.unknown_app" if not is_known

# METADATA
# title: Privileged action
# description: The action is privileged, so travel and device risks on it are judged strictly.
# custom:
#   code: target.privileged_action
#   controls: [PR.AA-05]
notes contains "target.privileged_action" if is_privileged
