"""Profiles: frozen bins, special values, merge == single pass, versioned JSON."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.common.errors import InputError
from lambdas.drift.categorical_profile import OTHER, profile_categorical
from lambdas.drift.dataset_profile import merge_profiles, profile_baseline, profile_current
from lambdas.drift.decision import score
from lambdas.drift.numeric_profile import NumericProfile, merge_numeric, profile_numeric, quantile_edges
from lambdas.drift.serialization import dumps, loads


def test_baseline_edges_are_numpy_quantiles_and_end_bins_are_open():
    values = np.random.default_rng(0).normal(size=1001)
    profile = profile_numeric(values, bins=4)
    assert np.allclose(profile.edges, np.quantile(values, [0.25, 0.5, 0.75]), rtol=0, atol=1e-12)
    assert profile.counts.tolist() == [250, 250, 250, 251]
    far = profile_numeric([-1e100, 1e100], edges=profile.edges)
    assert far.counts.tolist() == [1, 0, 0, 1]


def test_tied_quantiles_collapse_into_strictly_increasing_edges():
    values = np.array([0.0] * 50 + [1.0] * 30 + [2.0] * 20)
    edges = quantile_edges(np.sort(values), 10)
    assert edges.tolist() == sorted(set(edges.tolist()))
    assert np.all(np.diff(edges) > 0)


def test_nan_and_infinities_are_counted_apart_from_finite_values():
    profile = profile_numeric([1.0, np.nan, np.inf, -np.inf, np.inf, 2.0, None], bins=2)
    assert (profile.nan_count, profile.neg_inf_count, profile.pos_inf_count, profile.n) == (2, 1, 2, 2)
    assert profile.mean == pytest.approx(1.5)
    assert profile.total == 7


def test_exact_values_kept_only_up_to_max_exact():
    assert profile_numeric(np.arange(10.0), max_exact=10).exact is not None
    assert profile_numeric(np.arange(11.0), max_exact=10).exact is None


def test_numeric_strings_and_empty_fields_from_csv_capture_are_read():
    profile = profile_numeric(["1.5", "", "2.5", None], bins=2)
    assert (profile.n, profile.nan_count, profile.mean) == (2, 2, 2.0)


def test_non_numeric_value_in_numeric_feature_names_row_and_feature():
    with pytest.raises(InputError, match=r"age: value 'abc' at row 1 is not a number"):
        profile_numeric([1, "abc", 3], feature="age")


def test_categorical_profile_counts_unseen_values_as_other_and_missing_apart():
    base = profile_categorical(["a", "a", "b", "c", None], max_categories=2)
    assert base.categories == ("a", "b")
    assert base.counts.tolist() == [2, 1, 1] and base.missing_count == 1
    cur = profile_categorical(["a", "z", "", float("nan"), "b"], categories=base.categories)
    assert cur.counts.tolist() == [1, 1, 1] and cur.missing_count == 2
    assert cur.labels[-1] == OTHER


def _split_columns(columns, cuts):
    bounds = [0, *cuts, len(next(iter(columns.values())))]
    return [{k: v[lo:hi] for k, v in columns.items()} for lo, hi in itertools.pairwise(bounds)]


def _dataset(rng, n):
    x = rng.normal(size=n)
    x[rng.uniform(size=n) < 0.05] = np.nan
    x[:3] = [np.inf, -np.inf, np.inf]
    return {
        "x": x,
        "k": rng.integers(0, 4, size=n).astype(float),
        "c": rng.choice(np.array(["red", "green", "blue", "teal"]), size=n),
    }


@pytest.mark.parametrize(("n", "cuts"), [(3000, [1000, 1700]), (20_000, [3, 9000, 9001, 15_000])])
def test_merged_partition_profiles_equal_single_pass(n, cuts):
    rng = np.random.default_rng(n)
    baseline = profile_baseline(_dataset(rng, 5000))
    current = _dataset(rng, n)
    single = profile_current(baseline, current)
    merged = merge_profiles(profile_current(baseline, part) for part in _split_columns(current, cuts))
    assert merged.rows == single.rows == n
    for name, one in single.features.items():
        other = merged.features[name]
        assert np.array_equal(one.counts, other.counts)
        if isinstance(one, NumericProfile):
            assert isinstance(other, NumericProfile)
            assert (one.nan_count, one.neg_inf_count, one.pos_inf_count) == (
                other.nan_count,
                other.neg_inf_count,
                other.pos_inf_count,
            )
            assert np.allclose(one.sums, other.sums, rtol=1e-12, atol=1e-9)
            assert other.mean == pytest.approx(one.mean, rel=1e-12, abs=1e-14)
            assert other.m2 == pytest.approx(one.m2, rel=1e-12)
            assert (other.minimum, other.maximum) == (one.minimum, one.maximum)
            assert (one.exact is None) == (other.exact is None)
            if one.exact is not None:
                assert other.exact is not None and np.array_equal(one.exact, other.exact)
    # every statistic from the merged profile equals the single pass (counts exactly)
    a, b = score(baseline, single).to_dict(), score(baseline, merged).to_dict()
    for name in a["features"]:
        for key, value in a["features"][name].items():
            if isinstance(value, float):
                assert b["features"][name][key] == pytest.approx(value, rel=1e-9, abs=1e-12), (name, key)
            else:
                assert b["features"][name][key] == value, (name, key)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=60),
    st.integers(min_value=0, max_value=60),
)
def test_merge_of_any_split_equals_single_pass(values, cut):
    edges = np.array([-1.0, 0.0, 2.5])
    data = np.array(values, dtype=np.float64)
    cut = min(cut, data.size)
    whole = profile_numeric(data, edges=edges, max_exact=40)
    merged = merge_numeric(
        profile_numeric(data[:cut], edges=edges, max_exact=40),
        profile_numeric(data[cut:], edges=edges, max_exact=40),
    )
    assert np.array_equal(whole.counts, merged.counts)
    assert (whole.nan_count, whole.neg_inf_count, whole.pos_inf_count) == (
        merged.nan_count,
        merged.neg_inf_count,
        merged.pos_inf_count,
    )
    assert (whole.exact is None) == (merged.exact is None)
    if whole.exact is not None:
        assert merged.exact is not None and np.array_equal(whole.exact, merged.exact)


def test_merging_profiles_on_different_bins_is_refused_with_feature_name():
    a = profile_numeric([1.0, 2.0], edges=np.array([1.5]))
    b = profile_numeric([1.0, 2.0], edges=np.array([1.6]))
    with pytest.raises(InputError, match="income: profiles were built on different bin edges"):
        merge_numeric(a, b, "income")


def test_merge_of_nothing_is_an_input_error():
    with pytest.raises(InputError, match="nothing to merge"):
        merge_profiles([])


def test_profile_json_round_trip_is_bit_identical():
    rng = np.random.default_rng(11)
    profile = profile_baseline(_dataset(rng, 2000))
    text = dumps(profile)
    body = json.loads(text)
    assert (body["format"], body["version"]) == ("mlplatform.drift.profile", 1)
    again = loads(text)
    assert dumps(again) == text
    x, y = profile.features["x"], again.features["x"]
    assert isinstance(x, NumericProfile) and isinstance(y, NumericProfile)
    assert np.array_equal(x.edges, y.edges) and np.array_equal(x.sums, y.sums) and x.m2 == y.m2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.update(version=99), "version: unsupported version 99"),
        (lambda b: b.update(format="other"), "format: is not a mlplatform.drift.profile"),
        (lambda b: b["features"]["x"].pop("counts"), "features.x: missing key 'counts'"),
        (lambda b: b["features"]["x"].update(edges=[2.0, 1.0]), "features.x: needs len"),
        (lambda b: b["features"]["c"].update(kind="text"), "features.c: kind must be numeric or categorical"),
    ],
)
def test_corrupt_profile_json_names_the_field(mutate, message):
    body = json.loads(dumps(profile_baseline(_dataset(np.random.default_rng(12), 500))))
    mutate(body)
    with pytest.raises(InputError, match=message):
        loads(json.dumps(body), source="s3://b/baseline.json")


def test_invalid_json_is_an_input_error_naming_the_source():
    with pytest.raises(InputError, match=r"s3://b/p\.json: is not valid JSON"):
        loads("{nope", source="s3://b/p.json")
