"""The JSON schemas API Gateway checks request bodies against, before any function runs.

They mirror `fraud_service.transaction.Transaction` and `fraud_service.labels`; the
functions validate again (a direct invocation bypasses API Gateway), and a test checks
that the schema and the model agree on the required fields.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw

from fraud_service.labels import MAX_LABELS
from fraud_service.transaction import ID_PATTERN, MAX_AMOUNT

S = apigw.JsonSchemaType

TRANSACTION_REQUIRED = [
    "transaction_id",
    "card_id",
    "merchant_id",
    "amount",
    "currency",
    "country",
    "event_time",
]


def transaction_schema() -> apigw.JsonSchema:
    def ident() -> apigw.JsonSchema:
        return apigw.JsonSchema(type=S.STRING, pattern=ID_PATTERN)

    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4,
        title="Transaction",
        type=S.OBJECT,
        required=TRANSACTION_REQUIRED,
        additional_properties=False,
        properties={
            "transaction_id": ident(),
            "card_id": ident(),
            "merchant_id": ident(),
            "amount": apigw.JsonSchema(type=S.NUMBER, exclusive_minimum=True, minimum=0, maximum=MAX_AMOUNT),
            "currency": apigw.JsonSchema(type=S.STRING, pattern="^[A-Z]{3}$"),
            "country": apigw.JsonSchema(type=S.STRING, pattern="^[A-Z]{2}$"),
            "event_time": apigw.JsonSchema(type=S.STRING, min_length=20, max_length=40),
        },
    )


def labels_schema() -> apigw.JsonSchema:
    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4,
        title="Labels",
        type=S.OBJECT,
        required=["labels"],
        properties={
            "labels": apigw.JsonSchema(
                type=S.ARRAY,
                min_items=1,
                max_items=MAX_LABELS,
                items=apigw.JsonSchema(
                    type=S.OBJECT,
                    required=["transaction_id", "label", "reviewer"],
                    properties={
                        "transaction_id": apigw.JsonSchema(type=S.STRING, pattern=ID_PATTERN),
                        "reviewer": apigw.JsonSchema(type=S.STRING, min_length=1),
                    },
                ),
            )
        },
    )
