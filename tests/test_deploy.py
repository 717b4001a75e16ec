"""deploy/: work-pool templates, deployment files, Kubernetes manifests, Dockerfile.

Nothing here needs a Docker engine, a cluster or a Prefect API. The files are checked
with the code that consumes them: Prefect's own prefect.yaml model and trigger types,
the Prefect server's work-pool validator and job-variable schema check, the Kubernetes
API models (kubernetes_asyncio, a field they do not know is a typo), and
prefect-kubernetes' job configuration, which renders the Job the worker would submit.
What stays untested (building the image, applying the manifests, a worker talking to a
cluster) is listed in docs/deploy-kubernetes.md.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import re
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
LOCAL_FILE = DEPLOY / "prefect.yaml"
K8S_FILE = DEPLOY / "prefect-kubernetes.yaml"
POOLS = DEPLOY / "work-pools"
BACKFILL_ENTRYPOINT = "flows/backfill.py:backfill_flow"

# What the Kubernetes worker (prefect-kubernetes 0.8) does with the API: create and
# delete (cancel) Jobs, watch Jobs and pods (its kopf observer), read a crashed pod's
# log, post events.
WORKER_NEEDS = {
    ("batch", "jobs"): {"create", "get", "list", "watch", "delete"},
    ("", "pods"): {"get", "list", "watch"},
    ("", "pods/log"): {"get"},
    ("", "events"): {"create", "list", "watch"},
}

NAMESPACED_KINDS = {"ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "Deployment",
                    "PersistentVolumeClaim"}
K8S_MODEL = {"Namespace": "V1Namespace", "ConfigMap": "V1ConfigMap", "Secret": "V1Secret",
             "ServiceAccount": "V1ServiceAccount", "Role": "V1Role", "RoleBinding": "V1RoleBinding",
             "Deployment": "V1Deployment", "PersistentVolumeClaim": "V1PersistentVolumeClaim", "Job": "V1Job"}


# -- helpers -----------------------------------------------------------------------

def _load(path: Path) -> Any:
    return json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())


def _deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml", ".json"})


def _manifests() -> list[dict[str, Any]]:
    """Every object of the applied manifest set (kustomization resources + the Secret template)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = [K8S / name for name in kustomization["resources"]] + [K8S / "secret.template.yaml"]
    return [doc for f in files for doc in yaml.safe_load_all(f.read_text()) if doc]


def _objects(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in _manifests() if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def _one(kind: str, name: str) -> dict[str, Any]:
    found = _objects(kind, name)
    assert len(found) == 1, f"expected one {kind} {name!r} in deploy/kubernetes, found {len(found)}"
    return found[0]


def _deployments(path: Path) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in _load(path)["deployments"]}


def _all_entrypoints() -> list[tuple[str, str, str]]:
    return [(path.name, name, d["entrypoint"])
            for path in (LOCAL_FILE, K8S_FILE) for name, d in _deployments(path).items()]


def _pool(kind: str) -> dict[str, Any]:
    return json.loads((POOLS / f"{kind}.json").read_text())


def _defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v["default"] for k, v in template["variables"]["properties"].items() if "default" in v}


def _default_template(kind: str) -> dict[str, Any]:
    if kind == "kubernetes":
        worker = pytest.importorskip("prefect_kubernetes.worker")
        return worker.KubernetesWorker.get_default_base_job_template()
    from prefect.workers.process import ProcessWorker

    return ProcessWorker.get_default_base_job_template()


def _k8s_pool_name() -> str:
    pools = {d["work_pool"]["name"] for d in _deployments(K8S_FILE).values()}
    assert len(pools) == 1, f"deploy/prefect-kubernetes.yaml uses several pools: {pools}"
    return pools.pop()


def _dockerfile() -> str:
    return (K8S / "Dockerfile").read_text()


def _dockerfile_uid() -> int:
    match = re.search(r"^USER\s+(\d+)", _dockerfile(), re.MULTILINE)
    assert match, "the Dockerfile must switch to a numeric non-root USER"
    return int(match.group(1))


def _roundtrip_k8s(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each object through the Kubernetes API model of its kind and back to a dict."""
    pytest.importorskip("kubernetes_asyncio")
    from kubernetes_asyncio.client import ApiClient

    async def run() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        async with ApiClient() as client:
            pairs = []
            for obj in objects:
                model = client._ApiClient__deserialize(copy.deepcopy(obj), K8S_MODEL[obj["kind"]])
                pairs.append((obj, client.sanitize_for_serialization(model)))
            return pairs

    return asyncio.run(run())


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = [e["name"] for e in container.get("env", [])]
    assert len(names) == len(set(names)), f"duplicate environment variables: {names}"
    return {e["name"]: e for e in container.get("env", [])}


# -- every file parses ---------------------------------------------------------------

def test_deploy_holds_the_expected_files():
    names = {p.relative_to(DEPLOY).as_posix() for p in _deploy_files()}
    assert {"prefect.yaml", "prefect-kubernetes.yaml", "work-pools/process.json", "work-pools/kubernetes.json",
            "kubernetes/kustomization.yaml", "kubernetes/rbac.yaml", "kubernetes/worker.yaml",
            "kubernetes/configmap.yaml", "kubernetes/secret.template.yaml"} <= names
    assert (K8S / "Dockerfile").is_file()


@pytest.mark.parametrize("path", _deploy_files(), ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_every_deploy_file_parses(path: Path):
    if path.suffix == ".json":
        assert isinstance(json.loads(path.read_text()), dict)
        return
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs and all(isinstance(d, dict) for d in docs)


def test_manifests_fit_the_kubernetes_api_models():
    """No field the Kubernetes API model does not know (a typo would be dropped) or lacks."""
    objects = _manifests()
    assert {o["kind"] for o in objects} >= {"Namespace", "ConfigMap", "Secret", "ServiceAccount", "Role",
                                           "RoleBinding", "Deployment", "PersistentVolumeClaim"}
    for original, back in _roundtrip_k8s(objects):
        assert back == original, f"{original['kind']} {original['metadata']['name']} does not fit the API model"


def test_kustomization_applies_every_manifest_but_the_secret_template():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "helm-values.yaml"}
    assert set(kustomization["resources"]) == manifests - {"secret.template.yaml"}
    assert kustomization["namespace"] == _pool("kubernetes")["variables"]["properties"]["namespace"]["default"]


def test_secret_template_holds_no_secret():
    for secret in _objects("Secret"):
        assert set(secret.get("stringData", {}).values()) <= {"REPLACE-ME"}
        assert "data" not in secret


# -- deployment files ----------------------------------------------------------------

@pytest.mark.parametrize("path", [LOCAL_FILE, K8S_FILE], ids=lambda p: p.name)
def test_deployment_file_is_a_valid_prefect_yaml(path: Path):
    from prefect.events import DeploymentTriggerTypes
    from pydantic import TypeAdapter

    try:
        from prefect.cli.deploy._models import PrefectYamlModel
    except ImportError:  # private module: moved in another Prefect release
        PrefectYamlModel = None
    raw = _load(path)
    if PrefectYamlModel is not None:
        model = PrefectYamlModel.model_validate(raw)  # what `prefect deploy` does first
        assert len(model.deployments) == len(raw["deployments"])
    adapter = TypeAdapter(DeploymentTriggerTypes)
    for deployment in raw["deployments"]:
        assert re.fullmatch(r"flows/\w+\.py:\w+", deployment["entrypoint"])
        for i, spec in enumerate(deployment.get("triggers", []), start=1):
            adapter.validate_python({"name": f"{deployment['name']}__automation_{i}", **spec})


@pytest.mark.parametrize(("file", "name", "entrypoint"), _all_entrypoints(), ids=lambda v: str(v))
def test_entrypoint_is_a_flow_of_the_installed_package(file: str, name: str, entrypoint: str):
    from prefect import Flow

    path, function = entrypoint.split(":")
    module_name = "tendon_pipeline.flows." + Path(path).stem
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if entrypoint == BACKFILL_ENTRYPOINT and exc.name == module_name:
            pytest.skip(f"{module_name} does not exist yet (the backfill flow is being written)")
        raise
    assert isinstance(getattr(module, function, None), Flow), f"{module_name}.{function} is not a Prefect flow"
    assert (REPO / path).is_file(), f"{path} is not in the repository (the image copies flows/ from it)"


@pytest.mark.parametrize(("file", "name", "entrypoint"), _all_entrypoints(), ids=lambda v: str(v))
def test_entrypoint_loads_by_path_like_a_flow_run(file: str, name: str, entrypoint: str, monkeypatch):
    """After the pull step the run is in the directory holding flows/ and loads the entrypoint by path."""
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    if entrypoint == BACKFILL_ENTRYPOINT and not (REPO / "flows" / "backfill.py").exists():
        pytest.skip("flows/backfill.py does not exist yet (the backfill flow is being written)")
    monkeypatch.chdir(REPO)
    assert isinstance(load_flow_from_entrypoint(entrypoint), Flow)


def test_kubernetes_file_repeats_the_event_deployments_on_the_kubernetes_pool():
    local, k8s = _deployments(LOCAL_FILE), _deployments(K8S_FILE)
    assert {d["work_pool"]["name"] for d in local.values()} == {"tendon"}
    assert _k8s_pool_name() == "tendon-k8s"
    for name, deployment in local.items():
        assert name in k8s, f"{name} is missing from {K8S_FILE.name}"
        for key in ("entrypoint", "triggers", "parameters"):
            assert k8s[name].get(key) == deployment.get(key), f"{name}: {key} differs between the two files"
    assert set(k8s) - set(local) == {"backfill", "maintain-nightly"}


@pytest.mark.parametrize("path", [LOCAL_FILE, K8S_FILE], ids=lambda p: p.name)
def test_linked_accounts_are_synced_every_15_minutes_one_run_at_a_time(path: Path):
    from prefect.client.schemas.schedules import IntervalSchedule

    from tendon_pipeline.connectors.sources.config import SyncSettings

    sync = _deployments(path)["sync-linked-accounts"]
    assert sync["entrypoint"] == "flows/sync.py:sync_flow" and not sync.get("triggers")
    assert sync["concurrency_limit"] == 1 and sync["parameters"] == {"process": False}  # ingest-on-arrival ingests
    (schedule,) = sync["schedules"]
    parsed = IntervalSchedule(interval=schedule["interval"], timezone=schedule["timezone"])  # Prefect's validation
    assert parsed.interval.total_seconds() == SyncSettings().interval_minutes * 60 == 900


def test_the_lake_is_compacted_nightly():
    from prefect.client.schemas.schedules import CronSchedule

    maintain = _deployments(K8S_FILE)["maintain-nightly"]
    assert maintain["entrypoint"] == "flows/maintenance.py:maintenance_flow"
    assert not maintain.get("triggers") and len(maintain["schedules"]) == 1
    schedule = maintain["schedules"][0]
    CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])  # Prefect's own validation


def test_backfill_runs_on_demand_only():
    backfill = _deployments(K8S_FILE)["backfill"]
    assert backfill["entrypoint"] == BACKFILL_ENTRYPOINT
    assert not backfill.get("triggers") and not backfill.get("schedules") and not backfill.get("schedule")


def test_kubernetes_runs_start_in_the_image_code_directory():
    raw = _load(K8S_FILE)
    assert raw["pull"] == [{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/tendon"}}]
    assert not raw.get("build") and not raw.get("push")
    workdir = re.search(r"^WORKDIR\s+(\S+)", _dockerfile(), re.MULTILINE)
    assert workdir and workdir.group(1) == "/opt/tendon"


def test_local_file_keeps_the_single_writer_pool():
    text = LOCAL_FILE.read_text()
    assert "set-concurrency-limit tendon 1" in text
    assert "deploy/work-pools/process.json" in text


# -- base job templates ----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["process", "kubernetes"])
def test_base_job_template_keeps_the_worker_structure(kind: str):
    from prefect.utilities.templating import find_placeholders

    ours, default = _pool(kind), _default_template(kind)
    assert set(ours) == {"job_configuration", "variables"}
    assert set(ours["job_configuration"]) == set(default["job_configuration"])
    declared = set(ours["variables"]["properties"])
    assert set(default["variables"]["properties"]) <= declared, "a default variable was dropped"
    used = {p.name for p in find_placeholders(json.dumps(ours["job_configuration"]))}
    assert used <= declared, f"undeclared placeholders: {sorted(used - declared)}"
    unused = declared - used
    assert not unused, f"variables no placeholder uses: {sorted(unused)}"


@pytest.mark.parametrize("kind", ["process", "kubernetes"])
def test_work_pool_create_accepts_the_template(kind: str):
    """The checks the Prefect API runs on `prefect work-pool create --base-job-template FILE`."""
    from prefect.server.schemas.actions import WorkPoolCreate
    from prefect.utilities.schema_tools import is_valid_schema, validate

    template = _pool(kind)
    WorkPoolCreate(name=f"tendon-{kind}", type=kind, base_job_template=template)
    is_valid_schema(template["variables"], preprocess=False)
    validate(_defaults(template), template["variables"], raise_on_error=True, preprocess=True,
             ignore_required=True, allow_none_with_default=True)


def test_deployment_job_variables_fit_the_pool():
    """What the API checks at `prefect deploy`: job variables valid for the pool's schema."""
    from prefect.utilities.schema_tools import validate

    template = _pool("kubernetes")
    for name, deployment in _deployments(K8S_FILE).items():
        job_variables = deployment["work_pool"].get("job_variables") or {}
        unknown = set(job_variables) - set(template["variables"]["properties"])
        assert not unknown, f"{name}: job variables the pool does not declare: {unknown}"
        validate({**_defaults(template), **job_variables}, template["variables"], raise_on_error=True,
                 preprocess=True, ignore_required=True, allow_none_with_default=True)
    for deployment in _deployments(LOCAL_FILE).values():
        assert not deployment["work_pool"].get("job_variables")


def test_kubernetes_template_defaults():
    defaults = _defaults(_pool("kubernetes"))
    assert defaults["namespace"] == "tendon"
    assert re.fullmatch(r"ghcr\.io/[^/]+/tendon-pipeline:\S+", defaults["image"])
    assert defaults["finished_job_ttl"] > 0
    assert defaults["cpu_request"] and defaults["memory_request"]
    assert defaults["backoff_limit"] == 0  # Prefect reschedules an evicted run


# -- the Job the worker would submit ---------------------------------------------------

def _render_job(job_variables: dict[str, Any], api_url: str = "http://prefect.example:4200/api") -> Any:
    """The worker's path: template + job variables -> configuration -> prepared for a flow run."""
    worker = pytest.importorskip("prefect_kubernetes.worker")
    from unittest.mock import AsyncMock

    from prefect.client.schemas.objects import Flow as APIFlow
    from prefect.client.schemas.objects import FlowRun
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configuration = asyncio.run(worker.KubernetesWorkerJobConfiguration.from_template_and_values(
        _pool("kubernetes"), job_variables, client=AsyncMock()))  # no block/variable references to resolve
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        configuration.prepare_for_flow_run(FlowRun(id=uuid.uuid4(), name="brisk-otter", flow_id=uuid.uuid4()),
                                           flow=APIFlow(name="backfill"))
    return configuration


def test_rendered_job_puts_image_namespace_env_and_resources_in_place():
    job_variables = dict(_deployments(K8S_FILE)["backfill"]["work_pool"]["job_variables"])
    job_variables["env"] = {"TENDON_RULES__EXAMPLE": "1"}
    configuration = _render_job(job_variables, api_url="http://prefect-server.prefect.svc:4200/api")
    job = configuration.job_manifest
    defaults = _defaults(_pool("kubernetes"))

    assert job["kind"] == "Job" and job["metadata"]["namespace"] == configuration.namespace == "tendon"
    assert job["spec"]["ttlSecondsAfterFinished"] == defaults["finished_job_ttl"]
    assert job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    container = _container(job)
    assert container["image"] == defaults["image"]
    assert container["args"] == ["prefect", "flow-run", "execute"]
    assert pod["serviceAccountName"] == "tendon-flow-run"
    assert pod["securityContext"]["runAsUser"] == _dockerfile_uid()
    assert job["metadata"]["labels"]["prefect.io/flow-run-name"] == "brisk-otter"

    env = _env(container)
    assert env["PREFECT_API_URL"]["value"] == "http://prefect-server.prefect.svc:4200/api"
    assert env["TENDON_RULES__EXAMPLE"]["value"] == "1"
    assert "PREFECT__FLOW_RUN_ID" in env
    for key in ("TENDON_WAREHOUSE__URL", "TENDON_WAREHOUSE__DATA_PATH"):
        assert env[key]["valueFrom"] == {"configMapKeyRef": {"name": "tendon-settings", "key": key}}
    assert env["TENDON_WAREHOUSE__PASSWORD"] == {
        "name": "TENDON_WAREHOUSE__PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "tendon-secrets", "key": "TENDON_WAREHOUSE__PASSWORD"}}}
    assert env["TENDON_CONFIG"]["value"] == "/etc/tendon/config.toml"

    assert container["resources"] == {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == "tendon-data"
    assert volumes[mounts["/etc/tendon"]]["configMap"]["name"] == "tendon-config"

    # and the whole Job fits the Kubernetes API model (nothing unknown, nothing missing),
    # except `parallelism`/`completions` in the pod spec: Job fields that prefect-kubernetes'
    # own template puts there and its validator requires there; Kubernetes ignores them.
    [(original, back)] = _roundtrip_k8s([job])
    original = copy.deepcopy(original)
    for key in ("parallelism", "completions"):
        original["spec"]["template"]["spec"].pop(key)
    assert back == original


def test_deployment_env_overrides_a_template_variable_once():
    container = _container(_render_job({"env": {"TENDON_WAREHOUSE__URL": "ducklake:postgres:dbname=other"}})
                           .job_manifest)
    assert _env(container)["TENDON_WAREHOUSE__URL"] == {"name": "TENDON_WAREHOUSE__URL",
                                                        "value": "ducklake:postgres:dbname=other"}


def test_rendered_job_references_objects_the_manifests_create():
    job = _render_job({}).job_manifest
    pod, container = job["spec"]["template"]["spec"], _container(job)
    namespace = job["metadata"]["namespace"]
    for obj in _manifests():
        if obj["kind"] in NAMESPACED_KINDS:
            assert obj["metadata"].get("namespace") == namespace, f"{obj['kind']} {obj['metadata']['name']}"
    assert _one("Namespace", namespace)
    assert _one("ServiceAccount", pod["serviceAccountName"])
    for volume in pod["volumes"]:
        if "persistentVolumeClaim" in volume:
            claim = _one("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
            assert "ReadWriteMany" in claim["spec"]["accessModes"]  # pods on several nodes
        if "configMap" in volume:
            assert "config.toml" in _one("ConfigMap", volume["configMap"]["name"])["data"]
    for entry in container["env"]:
        ref = entry.get("valueFrom", {})
        if "configMapKeyRef" in ref:
            assert ref["configMapKeyRef"]["key"] in _one("ConfigMap", ref["configMapKeyRef"]["name"])["data"]
        if "secretKeyRef" in ref:
            assert ref["secretKeyRef"]["key"] in _one("Secret", ref["secretKeyRef"]["name"])["stringData"]
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            assert source["secretRef"].get("optional") or _objects("Secret", source["secretRef"]["name"])


def test_flow_run_pod_settings_load_as_a_lake_warehouse(tmp_path, monkeypatch):
    """The ConfigMap's example values pass the project's own settings validation."""
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.location import LakeLocation

    settings_map = _one("ConfigMap", "tendon-settings")["data"]
    config = tmp_path / "config.toml"
    config.write_text(_one("ConfigMap", "tendon-config")["data"]["config.toml"])
    tomllib.loads(config.read_text())
    for key in ("TENDON_WAREHOUSE__URL", "TENDON_WAREHOUSE__DATA_PATH"):
        monkeypatch.setenv(key, settings_map[key])
    monkeypatch.setenv("TENDON_WAREHOUSE__PASSWORD", "s3cret-from-the-secret")
    monkeypatch.setenv("TENDON_CONFIG", str(config))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    location = load_settings().location
    assert isinstance(location, LakeLocation)
    assert location.data_path == settings_map["TENDON_WAREHOUSE__DATA_PATH"]
    assert location.password == "s3cret-from-the-secret" and "s3cret" not in str(location)
    assert settings_map["PREFECT_API_URL"].endswith("/api")


# -- worker, RBAC, helm values, Dockerfile ------------------------------------------------

def test_worker_deployment_polls_the_deployments_pool():
    worker = _one("Deployment", "tendon-worker")
    command = _container(worker)["command"]
    assert command[:3] == ["prefect", "worker", "start"]
    assert command[command.index("--pool") + 1] == _k8s_pool_name()
    assert command[command.index("--type") + 1] == "kubernetes"
    assert "--no-create-pool-if-not-found" in command


def test_worker_observer_is_confined_to_the_roles_namespace(monkeypatch):
    """A namespaced Role works only if the worker's observer watches that namespace alone."""
    settings_module = pytest.importorskip("prefect_kubernetes.settings")

    worker = _one("Deployment", "tendon-worker")
    env = _env(_container(worker))
    monkeypatch.setenv("PREFECT_INTEGRATIONS_KUBERNETES_OBSERVER_NAMESPACES",
                       env["PREFECT_INTEGRATIONS_KUBERNETES_OBSERVER_NAMESPACES"]["value"])
    observed = settings_module.KubernetesSettings().observer.namespaces
    assert observed == {worker["metadata"]["namespace"]} == {_defaults(_pool("kubernetes"))["namespace"]}
    assert env["PREFECT_API_URL"]["valueFrom"]["configMapKeyRef"]["name"] == "tendon-settings"


def test_role_grants_what_the_worker_needs():
    worker = _one("Deployment", "tendon-worker")
    account = worker["spec"]["template"]["spec"]["serviceAccountName"]
    assert _one("ServiceAccount", account)
    bindings = [b for b in _objects("RoleBinding")
                if any(s["kind"] == "ServiceAccount" and s["name"] == account for s in b["subjects"])]
    assert len(bindings) == 1
    role = _one("Role", bindings[0]["roleRef"]["name"])
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    for key, verbs in WORKER_NEEDS.items():
        assert verbs <= granted.get(key, set()), f"{key}: missing {verbs - granted.get(key, set())}"
    assert ("", "secrets") not in granted  # only needed for the API-key-as-Secret options


def test_flow_run_pods_have_no_api_token():
    account = _one("ServiceAccount", _defaults(_pool("kubernetes"))["service_account_name"])
    assert account["automountServiceAccountToken"] is False
    bound = {s["name"] for b in _objects("RoleBinding") for s in b["subjects"]}
    assert account["metadata"]["name"] not in bound


def test_helm_values_match_the_manifests():
    values = yaml.safe_load((K8S / "helm-values.yaml").read_text())
    assert values["worker"]["config"]["workPool"] == _k8s_pool_name()
    assert values["worker"]["config"]["type"] == "kubernetes"
    assert values["namespaceOverride"] == _defaults(_pool("kubernetes"))["namespace"]
    extra = {e["name"]: e["value"] for e in values["worker"]["extraEnvVars"]}
    assert extra["PREFECT_INTEGRATIONS_KUBERNETES_OBSERVER_NAMESPACES"] == values["namespaceOverride"]
    assert values["worker"]["podSecurityContext"]["runAsUser"] == _dockerfile_uid()


def test_images_agree():
    """The worker, the watcher and the pool's flow runs run one image (one version)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    [image] = kustomization["images"]
    for deployment in _objects("Deployment"):
        assert _container(deployment)["image"] == image["name"]
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == _dockerfile_uid()
    assert f"{image['newName']}:{image['newTag']}" == _defaults(_pool("kubernetes"))["image"]
    values = yaml.safe_load((K8S / "helm-values.yaml").read_text())["worker"]["image"]
    assert f"{values['repository']}:{values['prefectTag']}" == _defaults(_pool("kubernetes"))["image"]


def test_dockerfile_installs_the_project_with_the_cluster_extras():
    dockerfile = _dockerfile()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    install = re.search(r'pip install "\.\[([\w,]+)\]"', dockerfile)
    assert install, "the Dockerfile must pip install the project with extras"
    extras = set(install.group(1).split(","))
    assert extras == {"lake", "dask", "kubernetes"}
    assert extras <= set(pyproject["project"]["optional-dependencies"])
    copied = set(re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile, re.MULTILINE))
    needed = {Path(d).parts[0] for d in pyproject["tool"]["setuptools"]["package-dir"].values()}
    needed |= {"pyproject.toml", pyproject["project"]["readme"]}
    have = {part for line in copied for part in line.split()}
    assert needed <= have, f"the Dockerfile does not copy {needed - have}"
    ignore = (K8S / "Dockerfile.dockerignore").read_text().split()
    assert all(f"!{n}" in ignore or f"!{n}/" in ignore for n in needed)
    assert _dockerfile_uid() != 0
