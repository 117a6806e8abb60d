"""Parses a Prometheus text exposition with prometheus_client's parser (the reference Python
implementation) and prints every sample as JSON: {sample name: [{labels, value}]}.
Exits non-zero, with the parser's complaint, if the text is not valid exposition format."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
samples = {}
for family in text_string_to_metric_families(text):
    if not family.documentation:
        sys.exit(f"{family.name} has no HELP text")
    for sample in family.samples:
        samples.setdefault(sample.name, []).append({"labels": sample.labels, "value": sample.value})
json.dump(samples, sys.stdout)
