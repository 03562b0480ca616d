"""Expands infra/template.yaml with the AWS SAM translator, as CloudFormation's
AWS::Serverless-2016-10-31 transform will at deploy time, and prints the result as JSON.

cfn-lint checks the SAM template against SAM's schema but does not run the transform; this
does, so a property the transform rejects (or an intrinsic it cannot carry) fails here, and
the generated template can be linted too. It also checks that every route uses the JWT
authorizer but the public ones. Runs offline: no AWS account or credentials are needed.

Usage: python infra/transform.py infra/template.yaml > transformed.json
"""

import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator


def main(path: str) -> int:
    # The translator asks boto3 for the region; any region gives the same resources.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template, matches = decode(path)
    if matches:
        for match in matches:
            print(f"{path}: {match}", file=sys.stderr)
        return 1
    template = json.loads(json.dumps(template))  # plain dicts, as the translator expects
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            # `sam package` replaces the local CodeUri with the uploaded artifact's S3 URI.
            resource["Properties"]["CodeUri"] = "s3://placeholder-bucket/placeholder.zip"
    translated = Translator(None, Parser()).translate(
        sam_template=template,
        parameter_values={"AWS::Region": "us-east-1", "AWS::Partition": "aws"},
    )

    apis = [r for r in translated["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    if len(apis) != 1:
        print(f"expected one HTTP API, the template has {len(apis)}", file=sys.stderr)
        return 1
    routes, public = 0, []
    for resource in translated["Resources"].values():
        if resource["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        routes += 1
        properties = resource["Properties"]
        route = properties["RouteKey"]
        if properties.get("AuthorizationType") == "JWT" and properties.get("AuthorizerId") == {"Ref": "JwtAuthorizer"}:
            continue
        # The route list (shared/src/http/routes.rs) marks these public; infra_drift.rs
        # holds the template's routes to it.
        if route not in PUBLIC_ROUTES:
            print(f"{route} does not use the JWT authorizer", file=sys.stderr)
            return 1
        public.append(route)
    print(
        f"transform: {len(translated['Resources'])} resources, {routes} routes, "
        f"all behind the JWT authorizer but {', '.join(public) or 'none'}",
        file=sys.stderr,
    )
    json.dump(translated, sys.stdout, indent=1)
    return 0


PUBLIC_ROUTES = {"POST /invitations/preview"}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))
