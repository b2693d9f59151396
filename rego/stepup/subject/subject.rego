# METADATA
# title: Subject
# description: Who is asking. People can be prompted; services and workloads are judged on proof alone.
package stepup.subject

# METADATA
# description: The subject is a person, who can be asked to authenticate again.
# scope: document
default is_human := false

is_human if input.subject.kind == "human"
