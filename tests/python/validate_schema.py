"""Validates JSON Lines documents against a JSON Schema (draft 2020-12) with the jsonschema
package. Prints each violation; exits 1 if there is any."""
import json
import sys

from jsonschema import Draft202012Validator

schema = json.load(open(sys.argv[1], encoding="utf-8"))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
failures = 0
for number, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
    if not line.strip():
        continue
    for error in validator.iter_errors(json.loads(line)):
        failures += 1
        print(f"line {number}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
sys.exit(1 if failures else 0)
