# METADATA
# title: Risk score
# description: |
#   Cumulative scoring: each signal group adds its points up to the group's cap, so a single weak
#   signal rarely crosses the lowest threshold on its own. Thresholds depend on the target's tier,
#   so the same signals weigh more on sensitive targets. Signals an exception relaxes do not
#   count. Weights, caps and thresholds are data. Services and workloads are judged on their
#   network alone: devices, travel and habits are a person's signals.
package stepup.risk

import data.stepup.behavior
import data.stepup.config
import data.stepup.device
import data.stepup.exceptions
import data.stepup.geo
import data.stepup.network
import data.stepup.subject
import data.stepup.target

_signals["network"] := network.signals

_signals["device"] := device.signals if subject.is_human

_signals["geo"] := geo.signals if subject.is_human

_signals["behavior"] := behavior.signals if subject.is_human

# METADATA
# description: Every signal present before exceptions, for reporting what an exception relaxed.
raw_codes contains code if {
	some codes in _signals
	some code in codes
}

_counted[group] := {code | some code in codes; not code in exceptions.relaxes} if some group, codes in _signals

# METADATA
# description: Each signal that counted, with its points.
contributions[code] := config.weights[code] if {
	some codes in _counted
	some code in codes
}

# METADATA
# description: Each group's points after its cap.
groups[group] := _capped(codes, config.caps[group]) if some group, codes in _counted

_capped(codes, _) := 0 if count(codes) == 0

_capped(codes, cap) := min({sum([config.weights[code] | some code in codes]), cap}) if count(codes) > 0

# METADATA
# description: The sum of the capped group points.
score := sum([value | some value in groups])

_thresholds := config.thresholds[target.tier]

# METADATA
# description: |
#   The risk level: low, then one step up for each of the tier's thresholds the score reaches
#   (medium, high, critical). Counting keeps the level monotonic in the score.
level := config.levels[count([name | some name in ["medium", "high", "critical"]; score >= _thresholds[name]])]

# METADATA
# title: Elevated risk
# description: The signals together raised the risk above low, and with it the requirement.
# custom:
#   code: risk.elevated
#   controls: [PR.AA-03, ID.RA-05]
notes contains "risk.elevated" if level != "low"
