# METADATA
# title: Risk score
# description: |
#   Cumulative scoring: each signal group adds its points up to the group's cap, so a single
#   weak signal rarely crosses the lowest threshold on its own. Weights, caps and thresholds
#   are data.
package stepup.risk

import data.stepup.config
import data.stepup.device
import data.stepup.network

# METADATA
# description: Each signal that counted, with its points.
contributions := object.union(device.points, network.points)

# METADATA
# description: Each group's points after its cap.
groups := {
	"device": _capped(device.points, config.caps.device),
	"network": _capped(network.points, config.caps.network),
}

_capped(points, cap) := min({sum([p | some p in points]), cap})

# METADATA
# description: The sum of the capped group points.
score := sum([p | some p in groups])

# METADATA
# description: |
#   The risk level: low, then one step up for each threshold the score reaches (medium, high,
#   critical). Counting keeps the level monotonic in the score even if thresholds are mis-ordered.
level := config.levels[count([name | some name in _thresholds; score >= config.thresholds[name]])]

_thresholds := ["medium", "high", "critical"]
