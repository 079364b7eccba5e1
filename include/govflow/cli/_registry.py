"""`govflow model register|list|show` and `govflow version register|list|show`."""

from __future__ import annotations

import argparse

from govflow.access import require_role
from govflow.cli._common import add_actor_flag, add_json_flag
from govflow.cli._identity import actor_of
from govflow.cli._mlflow import add_from_mlflow_flag, registration
from govflow.cli._output import emit
from govflow.cli._params import json_object
from govflow.service import registry
from govflow.store import session_scope


def register(groups: argparse._SubParsersAction) -> None:
    model = groups.add_parser("model", help="registered models")
    models = model.add_subparsers(dest="model_command", metavar="ACTION")
    models.required = True

    reg = models.add_parser("register", help="register a model")
    reg.add_argument("--name", required=True, help="slug: lowercase letters, digits, '-'")
    reg.add_argument("--owner", required=True)
    reg.add_argument("--risk-tier", required=True, help="minimal | limited | high | unacceptable")
    reg.add_argument(
        "--team", help="the team the model belongs to: its reviewers (roles file `teams`) see and approve it"
    )
    reg.add_argument("--use-case")
    reg.add_argument("--goal", action="append", default=[], help="business goal (repeatable)")
    reg.add_argument("--stakeholder", action="append", default=[], help='"name:role:contact" (repeatable)')
    reg.add_argument("--region", action="append", default=[], help="region of use, e.g. EU (repeatable)")
    reg.add_argument("--sector")
    reg.add_argument("--data-protection-notes")
    reg.add_argument("--batches", help="folder or URL where production data batches land (nightly checks)")
    add_actor_flag(reg)
    add_json_flag(reg)
    reg.set_defaults(handler=_model_register)

    ls = models.add_parser("list", help="list models")
    add_json_flag(ls)
    ls.set_defaults(handler=_model_list)

    show = models.add_parser("show", help="show one model and its versions")
    show.add_argument("name")
    add_json_flag(show)
    show.set_defaults(handler=_model_show)

    version = groups.add_parser("version", help="registered model versions")
    versions = version.add_subparsers(dest="version_command", metavar="ACTION")
    versions.required = True

    vreg = versions.add_parser("register", help="register a model version (files are hashed by govflow)")
    vreg.add_argument("--model", required=True)
    vreg.add_argument("--version", required=True)
    vreg.add_argument("--artifact", help="the model file (required unless --from-mlflow)")
    vreg.add_argument("--training-data", help="required unless --from-mlflow logged a training dataset")
    vreg.add_argument("--reference-data")
    vreg.add_argument("--eval-data")
    vreg.add_argument("--code-version")
    vreg.add_argument("--framework")
    vreg.add_argument("--params", help="JSON object of training parameters")
    vreg.add_argument("--metrics", help="JSON object of offline metrics")
    add_from_mlflow_flag(vreg)
    add_actor_flag(vreg)
    add_json_flag(vreg)
    vreg.set_defaults(handler=_version_register)

    vls = versions.add_parser("list", help="list versions")
    vls.add_argument("--model")
    vls.add_argument("--stage")
    add_json_flag(vls)
    vls.set_defaults(handler=_version_list)

    vshow = versions.add_parser("show", help="show one version")
    vshow.add_argument("--model", required=True)
    vshow.add_argument("--version", required=True)
    add_json_flag(vshow)
    vshow.set_defaults(handler=_version_show)


REGISTRAR_ROLES = ("data_scientist",)  # admins pass too


def _require_registrar(args: argparse.Namespace, what: str) -> str:
    actor = actor_of(args)
    require_role(actor, REGISTRAR_ROLES, action=f"register {what}")
    return actor


def _model_register(args: argparse.Namespace) -> int:
    actor = _require_registrar(args, "models")
    stakeholders = [
        registry.Stakeholder.parse(s) for s in args.stakeholder
    ]  # validate before touching the DB
    with session_scope() as session:
        model = registry.register_model(
            session,
            name=args.name,
            owner=args.owner,
            risk_tier=args.risk_tier,
            actor=actor,
            team=args.team,
            use_case=args.use_case,
            business_goals=args.goal,
            stakeholders=stakeholders,
            regions=args.region,
            sector=args.sector,
            data_protection_notes=args.data_protection_notes,
            batches_uri=args.batches,
        )
        payload = registry.model_to_dict(model)
    emit(
        payload,
        as_json=args.json,
        lines=[f"registered model {payload['name']} (risk tier {payload['risk_tier']})"],
    )
    return 0


def _model_list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        models = [registry.model_to_dict(m) for m in registry.list_models(session)]
    emit(
        {"models": models},
        as_json=args.json,
        lines=[f"{m['name']}\t{m['risk_tier']}\t{m['owner']}" for m in models] or ["no models registered"],
    )
    return 0


def _model_show(args: argparse.Namespace) -> int:
    with session_scope() as session:
        model = registry.get_model(session, args.name)
        payload = registry.model_to_dict(model)
        payload["versions"] = [{"version": v.version, "stage": v.stage} for v in model.versions]
    lines = [f"{k}: {v}" for k, v in payload.items() if k != "versions"]
    lines += [f"  {v['version']}\t{v['stage']}" for v in payload["versions"]]
    emit(payload, as_json=args.json, lines=lines)
    return 0


def _version_register(args: argparse.Namespace) -> int:
    actor = _require_registrar(args, "model versions")
    params = json_object(args.params, what="--params")
    metrics = json_object(args.metrics, what="--metrics")
    with registration(args, params=params, metrics=metrics) as given, session_scope() as session:
        row = registry.register_version(session, model=args.model, version=args.version, actor=actor, **given)
        payload = registry.version_to_dict(row, model_name=args.model)
    emit(
        payload,
        as_json=args.json,
        lines=[
            f"registered {args.model}@{args.version} (stage {payload['stage']}, "
            f"artifact sha256 {payload['artifact_sha256'][:12]}...)"
        ],
    )
    return 0


def _version_list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        rows = [
            registry.version_to_dict(v) for v in registry.list_versions(session, args.model, stage=args.stage)
        ]
    emit(
        {"versions": rows},
        as_json=args.json,
        lines=[f"{r['model']}@{r['version']}\t{r['stage']}" for r in rows] or ["no versions"],
    )
    return 0


def _version_show(args: argparse.Namespace) -> int:
    from govflow.policy import load_policy
    from govflow.service.version_state import version_state

    with session_scope() as session:
        row = registry.get_version(session, args.model, args.version)
        payload = registry.version_to_dict(row)
        # The state every view shows (portfolio, model and version pages, API), derived in one place.
        state = version_state(session, row, policy=load_policy())
        payload["state"] = state.to_dict()
    lines = [f"{k}: {v}" for k, v in payload.items() if k != "state"]
    emit(payload, as_json=args.json, lines=[*lines, f"state: {state.label} ({state.reason})"])
    return 0
