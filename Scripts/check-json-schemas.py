#!/usr/bin/env python3
"""Validates the --json output of lethe verbs against the published schemas in docs/schema/.

    Scripts/check-json-schemas.py SCHEMA_DIR OUTPUT_DIR

OUTPUT_DIR holds one file per run, named after the verb with dashes and a counter
(`tenant-show.1.json`); each is validated against SCHEMA_DIR/<verb>.schema.json (JSON Schema
draft 2020-12, with the shared definitions of common.schema.json). Every schema is itself
checked against the draft's metaschema first. Prints one line per problem and exits 1 if
there was any; needs the `jsonschema` package from PyPI (Scripts/test.sh installs it).
"""
import json
import os
import sys

try:
    import jsonschema
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012
except ImportError as error:
    sys.exit(f"check-json-schemas: the Python package jsonschema is missing ({error}); "
             "install it with `python3 -m pip install jsonschema` (Scripts/test.sh does)")


def main(schema_dir, output_dir):
    schemas = {}
    for name in sorted(os.listdir(schema_dir)):
        if name.endswith(".schema.json"):
            with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
                schemas[name] = json.load(f)
    problems = []
    for name, schema in schemas.items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            problems.append(f"{name}: not a valid draft 2020-12 schema: {error.message}")
    # Schemas refer to each other by file name (common.schema.json#/$defs/…).
    registry = Registry().with_resources((name, DRAFT202012.create_resource(schema)) for name, schema in schemas.items())
    checked = 0
    for output in sorted(os.listdir(output_dir)):
        verb = output.split(".")[0]
        schema = schemas.get(f"{verb}.schema.json")
        if schema is None:
            problems.append(f"{output}: no schema docs/schema/{verb}.schema.json")
            continue
        path = os.path.join(output_dir, output)
        try:
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
        except ValueError as error:
            problems.append(f"{output}: not JSON: {error}")
            continue
        validator = jsonschema.Draft202012Validator(schema, registry=registry,
                                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{output}: {where}: {error.message[:300]}")
        checked += 1
    for problem in problems:
        print(problem)
    print(f"{checked} outputs checked against {len(schemas)} schemas, {len(problems)} problems", file=sys.stderr)
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
