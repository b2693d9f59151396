# METADATA
# title: Target sensitivity
# description: |
#   The tier of the target (low, standard, high, critical) and whether the action is privileged.
#   Both come from the app catalog in the bundle's data, never from the caller: the app's own tier,
#   its data classification, the action's floor everywhere and the app's tier for that action
#   each set a floor, and the highest wins. An app missing from the catalog is treated as sensitive.
package stepup.target

import data.stepup.config

_app := config.catalog.apps[input.target.app]

# METADATA
# description: The app is in the bundle's catalog.
is_known if _app

_app_tier := _app.tier

_app_tier := config.catalog.unknown_app_tier if not is_known

default _classification_tier := "low"

_classification_tier := config.catalog.classification_floors[_app.classification]

default _action_floor := "low"

_action_floor := config.catalog.action_floors[input.target.action]

default _app_action_tier := "low"

_app_action_tier := _app.actions[input.target.action]

# METADATA
# description: The tier's rank, 0 (low) to 3 (critical); the highest of the floors.
rank := max({
	config.tiers.rank[_app_tier],
	config.tiers.rank[_classification_tier],
	config.tiers.rank[_action_floor],
	config.tiers.rank[_app_action_tier],
})

# METADATA
# description: The tier's name.
tier := config.tiers.names[rank]

# METADATA
# description: High and critical targets are sensitive; hard stops and fail-closed apply to them.
is_sensitive if rank >= config.tiers.rank.high

# METADATA
# description: The action is privileged everywhere (admin, approve, …) or on this app (writes to secrets, …).
# scope: document
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
