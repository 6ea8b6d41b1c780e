"""Taking over a running site: `moodle-sync adopt` writes specs for courses Moodle already has and marks them.

keys.py        the spec key a short name or name becomes (slug), and the close matches an unknown name gets
find.py        the courses an admin names (--course SHORTNAME, --category NAME) read from Moodle
courses.py     a Moodle course and its categories as spec data, what the spec cannot say, what apply would change
cohorts.py     existing cohorts mapped to target group × county (a mapping file or name patterns)
yaml_text.py   the spec data as reviewable YAML, checked by loading it back
plan.py        AdoptPlan: the files to write and the ID numbers to set, its problems and notes, for people and JSON
write.py       carry the plan out: the files first, then only the ID numbers in Moodle

Only ID numbers change in Moodle: no content, enrolment or completion is touched.
"""
