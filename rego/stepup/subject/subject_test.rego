package stepup.subject_test

import data.stepup.subject

test_people_are_human if {
	subject.is_human with input as {"subject": {"kind": "human"}}
}

test_services_and_workloads_are_not if {
	not subject.is_human with input as {"subject": {"kind": "service"}}
	not subject.is_human with input as {"subject": {"kind": "workload"}}
}
