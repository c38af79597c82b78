import pytest

from lambdas.serving.config_hash import MAX_NAME_LENGTH, content_hash, hashed_name, is_valid_name


def test_hash_ignores_key_order_and_follows_content():
    a = {"ProductionVariants": [{"VariantName": "blue", "InitialVariantWeight": 1}], "KmsKeyId": "k"}
    b = {"KmsKeyId": "k", "ProductionVariants": [{"InitialVariantWeight": 1, "VariantName": "blue"}]}
    assert content_hash(a) == content_hash(b)
    changed = {"KmsKeyId": "k", "ProductionVariants": [{"VariantName": "blue", "InitialVariantWeight": 2}]}
    assert content_hash(changed) != content_hash(a)


def test_hashed_name_keeps_base_and_fits_sagemaker_limits():
    name = hashed_name("fraud", {"x": 1})
    assert name.startswith("fraud-") and is_valid_name(name)
    long_name = hashed_name("a" * 60 + "-bc", {"x": 1})
    assert len(long_name) == MAX_NAME_LENGTH and is_valid_name(long_name)


def test_trimmed_base_never_leaves_a_double_hyphen_before_the_hash():
    base = "a" * 49 + "-b"  # trimmed to 50 characters ends on the hyphen
    assert is_valid_name(hashed_name(base, {}))


@pytest.mark.parametrize("bad", ["", "-x", "x-", "under_score", "a" * 64])
def test_invalid_base_names_are_refused(bad):
    with pytest.raises(ValueError, match="not a valid SageMaker name"):
        hashed_name(bad, {})
