"""Validates every example of infra/openapi.yaml (request bodies, responses, headers)
against the schema it illustrates, with OpenAPI 3.1's JSON Schema dialect and format checks.
openapi-spec-validator checks the document's structure; this checks that what it shows as
examples actually fits what it promises.

Usage: python infra/openapi_examples.py infra/openapi.yaml
"""

import sys

import yaml
from openapi_schema_validator import OAS31Validator


def resolve(spec, node):
    """Follows local `$ref`s (`#/components/...`) until a node that is not one."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def examples_of(spec, holder):
    """(name, value) of a media type's or header's `example` and `examples`."""
    if "example" in holder:
        yield "example", holder["example"]
    for name, example in (holder.get("examples") or {}).items():
        yield name, resolve(spec, example)["value"]


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    checked, errors = 0, []

    def check(where, schema, value):
        nonlocal checked
        # Wrapping keeps `#/components/...` references resolvable from the root.
        wrapper = {"allOf": [schema], "components": spec["components"]}
        validator = OAS31Validator(wrapper, format_checker=OAS31Validator.FORMAT_CHECKER)
        for error in validator.iter_errors(value):
            errors.append(f"{where}: {error.message} (at {'/'.join(map(str, error.absolute_path)) or 'root'})")
        checked += 1

    for route, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {route}"
            body = resolve(spec, operation.get("requestBody") or {})
            for media, content in (body.get("content") or {}).items():
                for name, value in examples_of(spec, content):
                    check(f"{where} request {media} {name}", content["schema"], value)
            for status, response in operation["responses"].items():
                response = resolve(spec, response)
                for media, content in (response.get("content") or {}).items():
                    if "schema" not in content:
                        errors.append(f"{where} {status} {media}: no schema")
                        continue
                    found = list(examples_of(spec, content))
                    if not found:
                        errors.append(f"{where} {status} {media}: no example")
                    for name, value in found:
                        check(f"{where} {status} {media} {name}", content["schema"], value)
                for header_name, header in (response.get("headers") or {}).items():
                    header = resolve(spec, header)
                    for name, value in examples_of(spec, header):
                        check(f"{where} {status} header {header_name} {name}", header["schema"], value)
    for name, response in spec["components"].get("responses", {}).items():
        for media, content in (response.get("content") or {}).items():
            for example_name, value in examples_of(spec, content):
                check(f"components/responses/{name} {media} {example_name}", content["schema"], value)

    for error in errors:
        print(error, file=sys.stderr)
    print(f"openapi examples: {checked} checked, {len(errors)} problems", file=sys.stderr)
    return 1 if errors or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/openapi.yaml"))
