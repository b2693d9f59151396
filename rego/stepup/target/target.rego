# METADATA
# title: Target sensitivity
# description: |
#   The tier of the target (low, standard, high, critical). It comes from the app catalog in the
#   bundle's data and from the action, never from the caller; an app missing from the catalog is
#   treated as sensitive.
package stepup.target

import data.stepup.config

# METADATA
# description: The app is in the bundle's catalog.
is_known if config.catalog.apps[input.target.app]

# The app's own tier, or the tier given to unknown apps.
_app_tier := config.catalog.apps[input.target.app].tier if is_known

else := config.catalog.unknown_app_tier

# The floor an action sets everywhere (admin is critical on any app).
_action_floor := object.get(config.catalog.action_floors, input.target.action, "low")

# The tier the app's catalog entry gives this action, if any.
_action_tier := object.get(config.catalog.apps, [input.target.app, "actions", input.target.action], "low")

# METADATA
# description: The tier's rank, 0 (low) to 3 (critical); the highest of app, action floor and app action.
rank := max({
	config.tiers.rank[_app_tier],
	config.tiers.rank[_action_floor],
	config.tiers.rank[_action_tier],
})

# METADATA
# description: The tier's name.
tier := config.tiers.names[rank]

# METADATA
# description: High and critical targets are sensitive; hard stops and fail-closed apply to them.
is_sensitive if rank >= config.tiers.rank.high
