"""The fraud detection product's CDK app: `npx cdk synth` / `npx cdk deploy` in this folder."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from fraud_service.infra.settings import FraudAppSettings
from fraud_service.infra.stack import FraudDetectionStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    settings = FraudAppSettings.parse(app.node.try_get_context("fraud"))
    FraudDetectionStack(
        app,
        settings.stack_name,
        settings=settings,
        env=cdk.Environment(account=settings.account, region=settings.region),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
