"""Checks an X12 file's envelopes with badx12 (an implementation nobody here wrote): control
numbers and counts. Prints JSON: whether it is valid, its error count, and its groups."""
import collections
import collections.abc
import json
import sys

# badx12 0.2.2 imports collections.Iterable, gone since Python 3.10: restore the alias here,
# in the test harness, rather than patching the package.
collections.Iterable = collections.abc.Iterable
from badx12 import Parser  # noqa: E402

document = Parser().parse_document(open(sys.argv[1], encoding="utf-8").read())
report = document.validate()
interchange = document.to_dict()["document"]["interchange"]
groups = []
for group in interchange.get("groups", []):
    sets = group.get("transaction_sets", [])
    groups.append({"transaction_sets": len(sets)})
print(json.dumps({"valid": report.is_document_valid(), "errors": len(report.error_list), "groups": groups}))
