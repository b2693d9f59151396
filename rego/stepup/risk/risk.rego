# METADATA
# title: Risk score
# description: |
#   Cumulative scoring: each signal group adds its points up to the group's cap, so a single weak
#   signal rarely crosses the lowest threshold on its own. Thresholds depend on the target's tier,
#   so the same signals weigh more on sensitive targets. Signals an exception relaxes do not
#   count. Weights, caps and thresholds are data. Services and workloads are judged on their
#   network alone: devices, travel and habits are a person's signals.
package stepup.risk

import data.stepup.arith
import data.stepup.behavior
import data.stepup.config
import data.stepup.device
import data.stepup.exceptions
import data.stepup.geo
import data.stepup.network
import data.stepup.subject
import data.stepup.target

# The signals of each group that count. Each group is its own rule, rather than one object of
# groups, because the decision reads them one by one and iterating an object costs a hash per key.
_network := _counted(network.signals)

_device := _counted(device.signals) if subject.is_human

_geo := _counted(geo.signals) if subject.is_human

_behavior := _counted(behavior.signals) if subject.is_human

# Filtering builds a new set, so it happens only when an exception applies.
_counted(codes) := codes if {
	not exceptions.applies
} else := {code | some code in codes; not code in exceptions.relaxes}

# METADATA
# description: Every signal present before exceptions, for reporting what an exception relaxed.
raw_codes := ((network.signals | device.signals) | geo.signals) | behavior.signals if {
	subject.is_human
} else := network.signals

# METADATA
# description: Each signal that counted, with its points.
# scope: document
contributions[code] := config.weights[code] if some code in _network

contributions[code] := config.weights[code] if some code in _device

contributions[code] := config.weights[code] if some code in _geo

contributions[code] := config.weights[code] if some code in _behavior

# METADATA
# description: Each group's points after its cap.
groups := {
	"device": _points(_device, caps.device),
	"network": _points(_network, caps.network),
	"geo": _points(_geo, caps.geo),
	"behavior": _points(_behavior, caps.behavior),
} if {
	subject.is_human
	caps := config.caps
} else := {"network": _points(_network, config.caps.network)}

# A group's points: nothing to add for no signal, one weight for one, a sum only beyond that.
_points(codes, cap) := 0 if {
	count(codes) == 0
} else := points if {
	count(codes) == 1
	some code in codes

	# perf: stepup.arith, measured (docs/performance.md)
	points := arith.smaller(config.weights[code], cap)
} else := arith.smaller(sum([config.weights[code] | some code in codes]), cap)

# perf: stepup.arith, measured (docs/performance.md)
# METADATA
# description: The sum of the capped group points.
score := arith.add(
	arith.add(groups.device, groups.network),
	arith.add(groups.geo, groups.behavior),
) if {
	subject.is_human
} else := groups.network

# METADATA
# description: |
#   The risk level: low, then one step up for each of the tier's thresholds the score reaches
#   (medium, high, critical). The thresholds ascend (the bundle build checks it), so the highest
#   one reached names the level.
level := config.levels[_reached(score, config.thresholds[target.tier])]

_reached(points, thresholds) := 3 if {
	points >= thresholds.critical
} else := 2 if {
	points >= thresholds.high
} else := 1 if {
	points >= thresholds.medium
} else := 0

# METADATA
# title: Elevated risk
# description: The signals together raised the risk above low, and with it the requirement.
# custom:
#   code: risk.elevated
#   controls: [PR.AA-03, ID.RA-05]
notes contains "risk.elevated" if level != "low"
