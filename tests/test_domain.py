"""Node identities and assertions: what they accept, what they refuse, and how they travel
inside pydantic models."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.contracts import ContractDataset
from catalog.domain import (
    FACT,
    Assertion,
    EdgeKind,
    InvalidNode,
    NodeKind,
    NodeRef,
    column_ref,
    dataset_ref,
    sha256_hex,
)
from catalog.errors import InvalidArgument


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": NodeKind.DATASET, "namespace": "", "name": "t"}, "namespace must be a non-empty"),
        ({"kind": NodeKind.DATASET, "namespace": "ns", "name": 7}, "name must be a non-empty"),
        ({"kind": NodeKind.DATASET, "namespace": "ns", "name": "t", "column": "c"}, "forbidden"),
        ({"kind": NodeKind.COLUMN, "namespace": "ns", "name": "t"}, "column is required"),
        ({"kind": NodeKind.COLUMN, "namespace": "ns", "name": "t", "column": 3}, "must be a str"),
        ({"kind": "TABLE", "namespace": "ns", "name": "t"}, "no node kind 'TABLE'"),
    ],
)
def test_a_ref_no_node_can_have_is_an_invalid_argument(
    fields: dict[str, object], says: str
) -> None:
    with pytest.raises(InvalidNode, match=says) as refused:
        NodeRef(**fields)  # type: ignore[arg-type]
    assert isinstance(refused.value, InvalidArgument)  # the API answers INVALID_ARGUMENT
    assert isinstance(refused.value, ValueError)  # readers report it as bad input


def test_a_kind_read_as_text_becomes_the_node_kind() -> None:
    ref = NodeRef(kind="COLUMN", namespace="ns", name="t", column="c")  # type: ignore[arg-type]
    assert ref.kind is NodeKind.COLUMN
    assert ref == column_ref("ns", "t", "c")


def test_a_ref_is_its_key_and_back() -> None:
    ref = column_ref("pg://h:5432", "db.s.t", 'naïve "col"')
    assert ref.key == '["COLUMN","pg://h:5432","db.s.t","naïve \\"col\\""]'
    assert NodeRef.from_key(ref.key) == ref


def test_equal_refs_are_equal_and_hash_alike_whatever_they_derived() -> None:
    first, second = dataset_ref("ns", "t"), dataset_ref("ns", "t")
    assert (first == second, hash(first) == hash(second)) == (True, True)
    assert replace(first, name="u") == dataset_ref("ns", "u")
    assert replace(first, name="u").key == dataset_ref("ns", "u").key


def test_a_ref_inside_a_pydantic_model_dumps_and_reads_its_four_fields() -> None:
    held = ContractDataset(ref=dataset_ref("ns", "t"), object_name="t")
    dumped = held.model_dump(mode="json")
    assert dumped["ref"] == {"kind": "DATASET", "namespace": "ns", "name": "t", "column": None}
    assert ContractDataset.model_validate(dumped) == held
    assert ContractDataset.model_validate_json(held.model_dump_json()).ref.key == held.ref.key


def test_an_assertion_holds_its_own_copy_of_its_attributes() -> None:
    attrs = {"description": "orders"}
    fact = Assertion(kind=FACT, subject=dataset_ref("ns", "t"), attrs=attrs)
    attrs["description"] = "changed after"
    assert fact.attrs == {"description": "orders"}
    assert fact.attrs_json == '{"description":"orders"}'


@pytest.mark.parametrize(
    ("kind", "has_object", "says"),
    [
        (FACT, True, "a FACT has no object"),
        ("FLOWS", True, "unknown assertion kind 'FLOWS'"),
        (EdgeKind.FEEDS.value, False, "a FEEDS edge needs an object"),
    ],
)
def test_an_assertion_of_the_wrong_shape_is_refused(kind: str, has_object: bool, says: str) -> None:
    far = dataset_ref("ns", "u") if has_object else None
    with pytest.raises(InvalidNode, match=says):
        Assertion(kind=kind, subject=dataset_ref("ns", "t"), object=far)


def test_an_assertion_is_named_by_its_kind_and_ends() -> None:
    edge = Assertion(kind="FEEDS", subject=dataset_ref("ns", "t"), object=dataset_ref("ns", "u"))
    fact = Assertion(kind=FACT, subject=dataset_ref("ns", "t"))
    assert edge.identity == ("FEEDS", dataset_ref("ns", "t").key, dataset_ref("ns", "u").key)
    assert fact.identity == (FACT, dataset_ref("ns", "t").key, "")


def _edge_with(attrs: dict[str, object]) -> Assertion:
    return Assertion(
        kind="DERIVES",
        subject=column_ref("ns", "t", "a"),
        object=column_ref("ns", "u", "a"),
        attrs=attrs,
    )


def test_attributes_equal_in_value_but_not_in_type_are_stored_as_their_own_json() -> None:
    stored = [_edge_with({"inferred": value}).attrs_json for value in (True, 1, 1.0, "1")]
    assert stored == ['{"inferred":true}', '{"inferred":1}', '{"inferred":1.0}', '{"inferred":"1"}']


def test_assertions_saying_the_same_attributes_share_their_stored_text() -> None:
    first, second = (_edge_with({"transformation": "IDENTITY", "model": "m"}) for _ in range(2))
    assert first.attrs_json is second.attrs_json
    assert first.attrs_digest == sha256_hex('{"model":"m","transformation":"IDENTITY"}')


def test_attributes_holding_lists_and_objects_are_stored_as_canonical_json() -> None:
    edge = _edge_with({"tags": ["b", "a"], "meta": {"z": 1, "a": None}})
    assert edge.attrs_json == '{"meta":{"a":null,"z":1},"tags":["b","a"]}'
    assert edge.attrs_digest == sha256_hex(edge.attrs_json)


def test_an_assertion_without_attributes_stores_an_empty_object() -> None:
    assert (_edge_with({}).attrs_json, _edge_with({}).attrs_digest) == (
        "{}",
        sha256_hex("{}"),
    )
