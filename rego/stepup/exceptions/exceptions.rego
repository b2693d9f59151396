# METADATA
# title: Exceptions
# description: |
#   Explicit, scoped, expiring exceptions from data: break-glass accounts, travelling executives,
#   external suppliers. An exception applies to the subjects and apps it names until it expires,
#   and relaxes only the codes it lists (signals, hard stops, session or credential gaps); never
#   anything else. Every use is logged for review; break-glass use also notifies security.
package stepup.exceptions

import data.stepup.config

# Exceptions in scope for this request: its subject, its app ("*" for every app), not yet expired.
# Subjects and apps are objects keyed by name, so scoping is a lookup, not a scan.
_in_scope[id] := exception if {
	subject := input.subject.id
	some id in _candidates
	exception := config.exceptions[id]
	exception.subjects[subject]
	_covers(exception.apps)
	input.now < exception.expires_at
}

# The exceptions that may name the subject: those the bundle's index lists for it
# (data.stepup.exception_index, written by the bundle build), so that the cost does not grow with
# the exception list; every exception where the data has no index.
_candidates contains id if {
	_indexed
	some id, _ in data.stepup.exception_index[input.subject.id]
}

_candidates contains id if {
	not _indexed
	some id, _ in config.exceptions
}

_indexed if is_object(data.stepup.exception_index)

_covers(apps) if apps["*"]

_covers(apps) if apps[input.target.app]

# METADATA
# description: Some exception applies to this request.
# scope: document
default applies := false

applies if count(_in_scope) > 0

# METADATA
# description: A break-glass exception applies to this request.
# scope: document
default is_break_glass := false

is_break_glass if {
	some exception in _in_scope
	exception.kind == "break_glass"
}

# METADATA
# description: The codes that the exceptions in scope relax.
relaxes contains code if {
	some exception in _in_scope
	some code in exception.relaxes
}

# METADATA
# description: The exceptions that applied, each with the codes it relaxed among those present.
applied(present) := [entry |
	some id, exception in _in_scope
	entry := {
		"id": id,
		"kind": exception.kind,
		"expires_at": exception.expires_at,
		"approver": exception.approver,
		"relaxed": sort([code | some code in exception.relaxes; code in present]),
	}
]

# METADATA
# title: Exception applied
# description: An approved exception applied to this request; its use is logged for review.
# custom:
#   code: exception.applied
#   controls: [PR.AA-05, GV.PO-01]
notes contains "exception.applied" if applies
