# Target at the edge
#
# The app and action: from the route's context extensions in Envoy's own configuration
# (stepup_app, stepup_action), else from the routes in data (literal segments, `*` for one
# segment, a final `**` for the rest; the first match wins; HEAD matches GET routes first),
# else the fallback app when one is set. The action defaults from the method. A request that
# maps to nothing has no target, and is denied (fail closed).
package stepup.envoy

_targets := object.get(settings, "targets", {})

_default_actions := {
	"GET": "read", "HEAD": "read", "OPTIONS": "read",
	"POST": "write", "PUT": "write", "PATCH": "write", "DELETE": "delete",
}

_method := upper(_http.method)

_path := regex.split(`[?#]`, _http.path)[0]

default _resource := null

_resource := _path if {
	count(_path) > 0
	count(_path) <= 1024
}

_actions := object.union(_default_actions, {upper(m): a | some m, a in object.get(_targets, "actions", {})})

_default_action := object.get(_actions, _method, substring(lower(_method), 0, 64))

_extensions := object.get(input.attributes, "contextExtensions", {})

# METADATA
# description: The target part of the input; undefined when the request maps to nothing valid.
target := {"app": _app_action[0], "action": _app_action[1], "resource": _resource} if {
	_text(_app_action[0], 128)
	_text(_app_action[1], 64)
}

_app_action := [_extensions.stepup_app, object.get(_extensions, "stepup_action", _default_action)] if {
	is_string(_extensions.stepup_app)
} else := [route.app, object.get(route, "action", _default_action)] if {
	route := _route_for(_lookup_method)
} else := [route.app, object.get(route, "action", _default_action)] if {
	route := _route_for(_method)
} else := [_targets.fallback_app, _default_action] if {
	is_string(_targets.fallback_app)
}

default _lookup_method := "GET"

_lookup_method := _method if _method != "HEAD"

_route_for(method) := [route |
	some route in object.get(_targets, "routes", [])
	_method_fits(route, method)
	route_matches(route.path, _path)
][0]

_method_fits(route, _) if not is_array(object.get(route, "methods", null))

_method_fits(route, method) if {
	some m in route.methods
	upper(m) == method
}

# METADATA
# description: |
#   A path fits a route pattern segment by segment: `*` is one non-empty segment, a final `**`
#   the non-empty rest.
# scope: document
route_matches(pattern, path) if {
	p := split(pattern, "/")
	s := split(path, "/")
	count(p) == count(s)
	every i, segment in p {
		_segment_fits(segment, s[i])
	}
}

route_matches(pattern, path) if {
	p := split(pattern, "/")
	n := count(p) - 1
	p[n] == "**"
	s := split(path, "/")
	count(s) > n
	every i, segment in array.slice(p, 0, n) {
		_segment_fits(segment, s[i])
	}
	concat("/", array.slice(s, n, count(s))) != ""
}

_segment_fits("*", segment) if segment != ""

_segment_fits(literal, segment) if {
	literal != "*"
	literal == segment
}
