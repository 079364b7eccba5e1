"""Registry rules on SQLite and PostgreSQL: registration, immutability, stage moves, audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govflow.errors import BadInputError, ConflictError, NotFoundError
from govflow.service import registry
from govflow.store import AuditEvent, ModelVersion, session_scope
from govflow.store.audit import verify_chain


def _model(session, name="credit-risk", tier="high"):
    return registry.register_model(
        session,
        name=name,
        owner="Ana Owner",
        risk_tier=tier,
        actor="alice",
        team="risk-ml",
        use_case="credit scoring",
        business_goals=["fewer defaults"],
        stakeholders=["Bo:reviewer:bo@example.org"],
        regions=["EU", "EU"],
        sector="finance",
    )


def _version(session, files, version="1.0", model="credit-risk", **extra):
    return registry.register_version(
        session,
        model=model,
        version=version,
        artifact=files["artifact"],
        training_data=files["training"],
        reference_data=files["reference"],
        eval_data=files["eval"],
        params={"C": 1.0},
        metrics={"auc": 0.9},
        actor="alice",
        **extra,
    )


def test_register_model_and_version_hashes_files_and_audits(db_url, sample_files):
    import hashlib

    with session_scope() as s:
        model = _model(s)
        assert model.regions == ["EU"]
        assert model.stakeholders == [{"name": "Bo", "role": "reviewer", "contact": "bo@example.org"}]
        row = _version(s, sample_files)
    with session_scope() as s:
        row = registry.get_version(s, "credit-risk", "1.0")
        assert row.stage == "candidate"
        assert row.artifact_sha256 == hashlib.sha256(sample_files["artifact"].read_bytes()).hexdigest()
        assert row.training_data_sha256 == hashlib.sha256(sample_files["training"].read_bytes()).hexdigest()
        assert row.framework == "scikit-learn"
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions == ["model.registered", "version.registered"]
        assert verify_chain(s).ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Credit Risk"}, "invalid model name"),
        ({"name": "-bad"}, "invalid model name"),
        ({"risk_tier": "extreme"}, "unknown risk tier 'extreme'"),
        ({"owner": "  "}, "needs an owner"),
        ({"stakeholders": ["only-a-name"]}, "invalid stakeholder"),
    ],
)
def test_bad_model_input_is_refused_and_writes_nothing(db_url, kwargs, message):
    args = {"name": "ok-name", "owner": "Ana", "risk_tier": "high", "actor": "alice", **kwargs}
    with pytest.raises(BadInputError, match=message), session_scope() as s:
        registry.register_model(s, **args)
    with session_scope() as s:
        assert registry.list_models(s) == []
        assert s.scalar(select(AuditEvent.seq)) is None


def test_duplicate_model_and_version_conflict(db_url, sample_files):
    with session_scope() as s:
        _model(s)
        _version(s, sample_files)
    with pytest.raises(ConflictError, match="already registered"), session_scope() as s:
        _model(s)
    with (
        pytest.raises(ConflictError, match=r"version '1\.0' of model 'credit-risk' is already registered"),
        session_scope() as s,
    ):
        _version(s, sample_files)


def test_unknown_model_and_missing_file(db_url, sample_files, tmp_path):
    with pytest.raises(NotFoundError, match="unknown model 'nope'"), session_scope() as s:
        _version(s, sample_files, model="nope")
    with session_scope() as s:
        _model(s)
    with pytest.raises(BadInputError, match="artifact not found"), session_scope() as s:
        registry.register_version(
            s,
            model="credit-risk",
            version="2",
            artifact=tmp_path / "missing.skops",
            training_data=sample_files["training"],
            actor="alice",
        )


def test_registered_fields_are_immutable(db_url, sample_files):
    with session_scope() as s:
        _model(s)
        _version(s, sample_files)
    for field, value in [("artifact_sha256", "0" * 64), ("params", {"C": 2.0}), ("training_data_uri", "/x")]:
        with pytest.raises(ConflictError, match=f"immutable: {field}"), session_scope() as s:
            row = registry.get_version(s, "credit-risk", "1.0")
            setattr(row, field, value)
            s.flush()
    with session_scope() as s:
        assert registry.get_version(s, "credit-risk", "1.0").params == {"C": 1.0}


def test_stage_moves_follow_legal_transitions(db_url, sample_files):
    with session_scope() as s:
        _model(s)
        _version(s, sample_files, "1.0")
        _version(s, sample_files, "2.0")
    with session_scope() as s:
        registry.transition_stage(s, model="credit-risk", version="1.0", to="staging", actor="rita")
    with pytest.raises(ConflictError, match="goes through the gate"), session_scope() as s:
        registry.transition_stage(s, model="credit-risk", version="1.0", to="production", actor="rita")
    with session_scope() as s:
        registry.transition_stage(s, model="credit-risk", version="2.0", to="rejected", actor="rita")
    with (
        pytest.raises(ConflictError, match=r"illegal stage move .* rejected -> staging"),
        session_scope() as s,
    ):
        registry.transition_stage(s, model="credit-risk", version="2.0", to="staging", actor="rita")
    with pytest.raises(BadInputError, match="unknown stage"), session_scope() as s:
        registry.transition_stage(s, model="credit-risk", version="1.0", to="prod", actor="rita")


def test_one_production_version_promoting_archives_previous(db_url, sample_files):
    with session_scope() as s:
        _model(s)
        _version(s, sample_files, "1.0")
        _version(s, sample_files, "2.0")
    with session_scope() as s:
        registry.promote_to_production(s, model="credit-risk", version="1.0", actor="rita", decision_id=1)
    with session_scope() as s:
        registry.promote_to_production(s, model="credit-risk", version="2.0", actor="rita", decision_id=2)
    with session_scope() as s:
        stages = {v.version: v.stage for v in s.scalars(select(ModelVersion))}
        assert stages == {"1.0": "archived", "2.0": "production"}
        assert registry.production_version(s, "credit-risk").version == "2.0"
        moves = [
            e
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "version.stage_changed")
                .order_by(AuditEvent.seq)
            )
        ]
        assert [(m.subject, m.payload) for m in moves][-2][0] == "version:credit-risk@1.0"
        assert '"to":"production"' in moves[-1].payload and '"previous":"1.0"' in moves[-1].payload
        assert verify_chain(s).ok


def test_find_or_register_is_the_one_rule_for_submitted_versions(db_url, sample_files, tmp_path):
    """submit and the gate DAG's resolve: register once, find it on a retry, refuse other bytes."""
    files = {"artifact": sample_files["artifact"], "training_data": sample_files["training"]}
    with session_scope() as s:
        _model(s)
        with pytest.raises(NotFoundError, match="unknown version"):  # no files: nothing to register
            registry.find_or_register_version(s, model="credit-risk", version="2.0", actor="alice")
        row, registered = registry.find_or_register_version(
            s, model="credit-risk", version="2.0", actor="alice", **files
        )
        assert registered and row.created_by == "alice"
    with session_scope() as s:
        again, registered = registry.find_or_register_version(
            s, model="credit-risk", version="2.0", actor="bob", **files
        )
        assert not registered and again.id == row.id and again.created_by == "alice"
        found, registered = registry.find_or_register_version(
            s, model="credit-risk", version="2.0", actor="bob"
        )
        assert not registered and found.id == row.id
        other = tmp_path / sample_files["artifact"].name
        other.write_bytes(sample_files["artifact"].read_bytes() + b"\0")
        with pytest.raises(BadInputError, match="already registered with a different artifact"):
            registry.find_or_register_version(
                s,
                model="credit-risk",
                version="2.0",
                actor="bob",
                artifact=other,
                training_data=files["training_data"],
            )
