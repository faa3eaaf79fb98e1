"""Offline checks of infra/: formatting, and that the Terraform agrees with the code it deploys.

`terraform validate` needs the providers, which cannot be downloaded offline; these tests read the
configuration with python-hcl2 and the code with ast (nothing is imported from functions/).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.terraform import INFRA, ROOT, first, load, ref, strings

FUNCTIONS_DIR = ROOT / "functions"

# The only roles any binding may grant. A new one is a deliberate change to this list.
ALLOWED_ROLES = {
    "roles/datastore.user",
    "roles/bigquery.jobUser",
    "roles/bigquery.dataEditor",
    "roles/bigquery.dataViewer",
    "roles/run.invoker",
    "roles/secretmanager.secretAccessor",
    "roles/logging.logWriter",
    "roles/storage.objectViewer",
    "roles/artifactregistry.writer",
    # BI readers (reporting.tf): the reporting dataset only, and query jobs in the project.
    "roles/bigquery.dataViewer",
    "roles/bigquery.readSessionUser",
}

# What each function's runtime service account holds (the deployment brief, least privilege).
EXPECTED_ROLES = {
    "ingest": ({"roles/datastore.user"}, set()),
    "providers": ({"roles/datastore.user"}, set()),
    "aggregate": ({"roles/datastore.user", "roles/bigquery.jobUser"}, {"roles/bigquery.dataEditor"}),
    "report": ({"roles/datastore.user", "roles/bigquery.jobUser"}, {"roles/bigquery.dataViewer"}),
}


def functions() -> dict[str, dict]:
    """Every function block of infra/functions.tf (local.function_specs), deployed or not yet."""
    return load().locals["function_specs"]


def code_functions() -> set[str]:
    return {p.parent.name for p in FUNCTIONS_DIR.glob("*/main.py")}


def deployed() -> list[str]:
    """What Terraform deploys from this tree: the blocks whose functions/<name>/main.py exists
    (local.functions; test_terraform_deploys_exactly_the_functions_in_the_code checks the filter)."""
    return sorted(set(functions()) & code_functions())


# ------------------------------------------------------------------------------------- formatting


def test_terraform_fmt_is_clean():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip(
            "terraform is not on PATH: `terraform fmt -check` skipped (the structural tests still run)"
        )
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", "infra"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`:\n{result.stdout}{result.stderr}"


def _terraform_plan_variables(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    """``terraform plan`` of infra/variables.tf alone: no provider, so it runs offline, and it
    evaluates every variable validation against the example tfvars (plus ``extra`` -var flags)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: variable validations not evaluated")
    shutil.copy(INFRA / "variables.tf", tmp_path / "variables.tf")
    shutil.copy(INFRA / "terraform.tfvars.example", tmp_path / "example.tfvars")
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    run = {"cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120, "env": env}
    init = subprocess.run([terraform, "init", "-input=false", "-no-color"], **run)
    assert init.returncode == 0, init.stdout + init.stderr
    return subprocess.run(
        [terraform, "plan", "-input=false", "-no-color", "-var-file=example.tfvars", *extra], **run
    )


def test_variable_validations_accept_the_example_and_refuse_bad_values(tmp_path):
    ok = _terraform_plan_variables(tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for bad in ('operator_principals=["allUsers"]', "name_prefix=Bad_Prefix", "dataset_id=bad-dataset"):
        refused = _terraform_plan_variables(tmp_path, f"-var={bad}")
        assert refused.returncode != 0 and "Invalid value for variable" in refused.stderr, bad


# ------------------------------------------------------------------------------- functions vs code


def test_terraform_deploys_exactly_the_functions_in_the_code():
    missing = code_functions() - set(functions())
    assert not missing, (
        f"functions/<name>/main.py with no block in local.function_specs (infra/functions.tf): {missing}"
    )
    assert {"ingest", "providers"} <= set(deployed()), "the provider and operator APIs are always deployed"


def test_the_function_filter_selects_the_blocks_whose_code_exists(tmp_path):
    """local.functions, evaluated by terraform (offline: the locals alone) in a copy of the repository
    layout where one block has code and one has none."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: the function filter is not evaluated")
    (tmp_path / "functions" / "present").mkdir(parents=True)
    (tmp_path / "functions" / "present" / "main.py").write_text("def present(request): ...\n")
    (tmp_path / "functions" / "no_main").mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    source = (INFRA / "functions.tf").read_text(encoding="utf-8")
    (infra / "main.tf").write_text(
        "locals {\n"
        "  function_specs = { present = {}, absent = {}, no_main = {} }\n"
        f"  functions = {_expression(source, 'functions')}\n"
        "}\n"
        'output "deployed" { value = keys(local.functions) }\n',
        encoding="utf-8",
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    run = {"cwd": infra, "capture_output": True, "text": True, "timeout": 120, "env": env}
    assert subprocess.run([terraform, "init", "-input=false", "-no-color"], **run).returncode == 0
    applied = subprocess.run([terraform, "apply", "-auto-approve", "-input=false", "-no-color"], **run)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    output = subprocess.run([terraform, "output", "-json", "deployed"], **run)
    assert json.loads(output.stdout) == ["present"]


@pytest.mark.parametrize("name", deployed())
def test_entry_point_is_defined_by_the_functions_main_module(name):
    spec = functions()[name]
    entry_point = spec["entry_point"]
    assert entry_point == name, (
        "the product contract: functions/<name>/main.py exposes a function named <name>"
    )
    main = FUNCTIONS_DIR / name / "main.py"
    assert main.is_file(), f"{main.relative_to(ROOT)} does not exist"
    tree = ast.parse(main.read_text(encoding="utf-8"), filename=str(main))
    defined = {
        node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert entry_point in defined, f"{main.relative_to(ROOT)} defines no top-level function {entry_point!r}"
    decorators = {ast.unparse(d) for d in defined[entry_point].decorator_list}
    assert not any("cloud_event" in d for d in decorators), (
        f"{entry_point} is a CloudEvent function, deployed as HTTP"
    )


def test_function_resource_deploys_each_block_from_its_own_bundle():
    config = load()
    fn = config.resource("google_cloudfunctions2_function", "function")
    assert ref(fn["for_each"]) == "local.functions"
    build = first(fn["build_config"])
    assert ref(build["entry_point"]) == "each.value.entry_point"
    storage = first(first(build["source"])["storage_source"])
    assert ref(storage["bucket"]) == "google_storage_bucket.bundles.name"
    assert ref(storage["object"]) == "google_storage_bucket_object.bundle[each.key].name"
    bundle = config.resource("google_storage_bucket_object", "bundle")
    assert ref(bundle["for_each"]) == "local.functions"
    assert "bundles.json" in config.locals["bundle_manifest"], "object names come from the build manifest"
    assert "local.bundle_manifest[each.key].file" in bundle["name"]


def test_runtime_is_python312():
    config = load()
    assert config.locals["runtime"] == "python312"
    build = first(config.resource("google_cloudfunctions2_function", "function")["build_config"])
    assert ref(build["runtime"]) == "local.runtime"
    runtimes = {s for _, s in strings(config.files) if re.fullmatch(r"python3\d+", s)}
    assert runtimes == {"python312"}, f"other runtimes named in infra/: {runtimes}"


@pytest.mark.parametrize("name", sorted(functions()))
def test_sizing_is_consistent(name):
    spec = functions()[name]
    concurrency, cpu = spec["concurrency"], float(spec["cpu"])
    assert 1 <= concurrency <= 1000
    assert concurrency == 1 or cpu >= 1, f"{name}: a concurrency above 1 needs at least 1 vCPU"
    assert 0 <= spec["min_instances"] <= spec["max_instances"]
    assert 1 <= spec["timeout_seconds"] <= 3600
    assert re.fullmatch(r"\d+(Mi|Gi)", spec["memory"])
    service = first(load().resource("google_cloudfunctions2_function", "function")["service_config"])
    assert ref(service["max_instance_request_concurrency"]) == "each.value.concurrency"
    # gunicorn's threads follow the concurrency (functions-framework reads THREADS).
    assert ref(service["environment_variables"]["THREADS"]) == "tostring(each.value.concurrency)"


def test_event_retention_reaches_the_functions_with_the_code_default(monkeypatch):
    service = first(load().resource("google_cloudfunctions2_function", "function")["service_config"])
    env = service["environment_variables"]["ANALYTICS_EVENT_RETENTION_DAYS"]
    assert ref(env) == "tostring(var.event_retention_days)"
    monkeypatch.delenv("ANALYTICS_EVENT_RETENTION_DAYS", raising=False)
    from shared.config import reset_settings, settings

    reset_settings()
    try:
        code_default = settings().event_retention_days
    finally:
        reset_settings()
    assert load().variables["event_retention_days"]["default"] == code_default, (
        "infra/ and shared/config.py disagree on the default event retention"
    )


def test_environment_variables_are_the_ones_the_code_reads():
    config_py = (ROOT / "shared" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r"""["'](ANALYTICS_[A-Z0-9_]+)["']""", config_py))
    service = first(load().resource("google_cloudfunctions2_function", "function")["service_config"])
    plain = set(service["environment_variables"]) - {"THREADS"}
    secret_envs = {s["env"] for s in load().locals["secrets"].values()}
    assert plain <= read, f"set by infra/ but not read by shared/config.py: {plain - read}"
    assert secret_envs <= read, (
        f"secrets exposed under names shared/config.py does not read: {secret_envs - read}"
    )
    assert plain.isdisjoint(secret_envs), "a secret must never be a plain environment variable"
    assert load().locals["store_url"].startswith("firestore://")
    assert load().locals["warehouse_url"].startswith("bigquery://")


def _expression(source: str, name: str) -> str:
    """The HCL text of ``name = <expression>`` in ``source`` (up to the balanced end)."""
    match = re.search(rf"^\s*{name}\s*=\s*", source, flags=re.M)
    assert match, f"no {name} in infra/"
    depth, end = 0, match.end()
    while end < len(source):
        char = source[end]
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "\n" and depth == 0:
            break
        end += 1
    return source[match.end() : end].strip()


@pytest.mark.parametrize(
    ("variables", "location", "expiration", "cap"),
    [
        ([], "europe-west1", 730, None),
        (["-var=partition_expiration_days=0", "-var=maximum_bytes_billed=1000000000000"], "EU", None, 10**12),
    ],
)
def test_the_warehouse_url_is_one_the_adapter_accepts(tmp_path, variables, location, expiration, cap):
    """Terraform renders ANALYTICS_WAREHOUSE (offline: the locals alone, no provider), and the
    code's own open_warehouse parses it into the dataset, location and options Terraform used."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: the warehouse URL is not rendered")
    source = (INFRA / "functions.tf").read_text(encoding="utf-8")
    shutil.copy(INFRA / "variables.tf", tmp_path / "variables.tf")
    (tmp_path / "main.tf").write_text(
        "locals {\n"
        f'  bigquery_location = "{location}"\n'
        f"  warehouse_options = {_expression(source, 'warehouse_options')}\n"
        f"  warehouse_url = {_expression(source, 'warehouse_url')}\n"
        "}\n"
        'output "url" { value = local.warehouse_url }\n',
        encoding="utf-8",
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    run = {"cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120, "env": env}
    assert subprocess.run([terraform, "init", "-input=false", "-no-color"], **run).returncode == 0
    applied = subprocess.run(
        [
            terraform,
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-var=project_id=my-project-1",
            *variables,
        ],
        **run,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    url = subprocess.run([terraform, "output", "-raw", "url"], **run).stdout
    from shared.warehouse import open_warehouse

    warehouse = open_warehouse(url)
    try:
        assert (warehouse.project, warehouse.dataset) == ("my-project-1", "channel_analytics"), url
        assert warehouse.location == location
        assert warehouse.options.partition_expiration_days == expiration
        assert warehouse.maximum_bytes_billed == cap
    finally:
        warehouse.close()


def test_secrets_reach_functions_only_through_secret_manager():
    config = load()
    secrets = config.locals["secrets"]
    service = first(config.resource("google_cloudfunctions2_function", "function")["service_config"])
    dynamic = first(service["dynamic"])["secret_environment_variables"]
    assert ref(dynamic["for_each"]) == "toset(each.value.secrets)"
    for name, spec in functions().items():
        assert set(spec["secrets"]) <= set(secrets), f"{name} uses an undeclared secret"
    assert "admin_token" not in functions()["ingest"]["secrets"], (
        "the public function never sees the admin token"
    )
    # A function whose routes check the operator token must be given it (else they answer 503).
    for name in deployed():
        routes = importlib.import_module(f"shared.endpoints.{name}").ROUTES
        if any(route.auth == "admin" for route in routes):
            assert "admin_token" in functions()[name]["secrets"], f"{name} has operator routes"
    version = config.resource("google_secret_manager_secret_version", "initial")
    assert "secret_data" not in version, "secret values must not be stored in the state: use secret_data_wo"
    assert "ephemeral.random_password.secret" in version["secret_data_wo"]
    accessor = config.resource("google_secret_manager_secret_iam_member", "accessor")
    assert ref(accessor["for_each"]) == "local.secret_accessors"
    assert ref(accessor["member"]) == "google_service_account.function[each.value.function].member"


# ------------------------------------------------------------------------------------------- IAM


def test_no_binding_grants_owner_editor_or_an_unlisted_role():
    roles = {s for _, s in strings(load().files) if s.startswith("roles/")}
    assert not roles & {"roles/owner", "roles/editor", "roles/viewer"}, roles
    assert roles <= ALLOWED_ROLES, f"roles outside the least-privilege list: {roles - ALLOWED_ROLES}"
    all_text = "\n".join(p.read_text(encoding="utf-8") for p in INFRA.glob("*.tf"))
    code = "\n".join(line.split("#", 1)[0] for line in all_text.splitlines())
    assert not re.search(r"roles/(owner|editor)\b", code)


def test_each_function_has_its_own_service_account_with_only_its_roles():
    config = load()
    sa = config.resource("google_service_account", "function")
    assert ref(sa["for_each"]) == "local.functions"
    assert "each.key" in sa["account_id"], "one account per function, named after it"
    service = first(config.resource("google_cloudfunctions2_function", "function")["service_config"])
    assert ref(service["service_account_email"]) == "google_service_account.function[each.key].email"
    for name, (project_roles, dataset_roles) in EXPECTED_ROLES.items():
        spec = functions()[name]
        assert set(spec["project_roles"]) == project_roles, name
        assert set(spec["dataset_roles"]) == dataset_roles, name
    project = config.resource("google_project_iam_member", "function")
    assert ref(project["for_each"]) == "local.function_project_roles"
    assert ref(project["member"]) == "google_service_account.function[each.value.function].member"
    dataset = config.resource("google_bigquery_dataset_iam_member", "function")
    assert ref(dataset["dataset_id"]) == "google_bigquery_dataset.warehouse.dataset_id", (
        "dataset-level, not project"
    )
    # datastore.user is limited to this deployment's database by an IAM condition.
    condition = first(project["dynamic"])["condition"]
    assert "roles/datastore.user" in condition["for_each"]
    assert "resource.name ==" in first(condition["content"])["expression"]


def test_only_ingest_is_public():
    config = load()
    public = {name for name, spec in functions().items() if spec["public"]}
    assert public == {"ingest"}
    hits = [where for where, s in strings(config.files) if "allUsers" in s or "allAuthenticatedUsers" in s]
    # allUsers appears once: the public branch of local.invokers (and in the variable's validation text).
    invokers = config.locals["invokers"]
    assert '"allUsers"' in invokers and "if f.public" in invokers
    assert "allAuthenticatedUsers" not in invokers
    assert all("invokers" in where or "operator_principals" in where for where in hits), hits
    invoker = config.resource("google_cloud_run_v2_service_iam_member", "invoker")
    assert ref(invoker["for_each"]) == "local.invokers"
    assert invoker["role"] == "roles/run.invoker"
    # Operators and the scheduler get invoker only on private functions.
    assert "if f.operators && !f.public" in invokers
    assert "google_service_account.scheduler.member" in invokers and "f.schedule != null" in invokers


# ------------------------------------------------------------------------------------- scheduler


def test_aggregate_runs_every_five_minutes_with_an_oidc_token():
    config = load()
    schedule = functions()["aggregate"]["schedule"]
    assert schedule["cron"] == "*/5 * * * *"
    job = config.resource("google_cloud_scheduler_job", "job")
    assert ref(job["for_each"]) == "local.scheduled"
    assert "f.schedule != null" in config.locals["scheduled"]
    target = first(job["http_target"])
    assert target["http_method"] == "POST"
    uri = "google_cloudfunctions2_function.function[each.key].service_config[0].uri"
    assert ref(target["uri"]) == uri
    oidc = first(target["oidc_token"])
    assert ref(oidc["service_account_email"]) == "google_service_account.scheduler.email"
    assert ref(oidc["audience"]) == uri
    # The scheduler's account holds nothing but run.invoker on the scheduled functions.
    for type_, named in config.resources.items():
        for name, body in named.items():
            member = str(body.get("member", ""))
            if "google_service_account.scheduler" in member:
                assert (type_, name) == ("google_cloud_run_v2_service_iam_member", "invoker"), (type_, name)


def test_the_scheduled_route_admits_the_scheduler_identity_it_is_called_with():
    """The scheduler sends its ID token, not the operator token: the function must know its e-mail,
    and the route it calls must be one that accepts an operator (else every tick answers 401)."""
    service = first(load().resource("google_cloudfunctions2_function", "function")["service_config"])
    invokers = ref(service["environment_variables"]["ANALYTICS_ADMIN_INVOKERS"])
    assert invokers == 'each.value.schedule != null ? google_service_account.scheduler.email : ""'
    for name, spec in functions().items():
        if spec["schedule"]:
            routes = importlib.import_module(f"shared.endpoints.{name}").ROUTES
            posted = [r for r in routes if r.method == "POST" and r.rule == "/"]
            assert posted and posted[0].auth == "admin", f"{name}: the scheduler calls POST /"


@pytest.mark.parametrize("name", sorted(n for n, s in functions().items() if s["schedule"]))
def test_schedule_fits_an_idempotent_lease_protected_job(name):
    spec, schedule = functions()[name], functions()[name]["schedule"]
    deadline = int(schedule["attempt_deadline"].removesuffix("s"))
    assert 15 <= deadline <= 1800, "Cloud Scheduler HTTP attempt deadlines are 15 s to 30 min"
    assert deadline > spec["timeout_seconds"], "the scheduler must not retry an attempt that is still running"
    assert 0 <= schedule["retry_count"] <= 5
    period = 300 if schedule["cron"].startswith("*/5 ") else None
    if period:
        assert int(schedule["max_retry_duration"].removesuffix("s")) < period, (
            "retries end before the next tick"
        )
    assert not spec["public"], "a scheduled function is private"


# ---------------------------------------------------------------------------------- warehouse/store


def test_bigquery_tables_come_from_the_generated_declarations():
    config = load()
    assert 'jsondecode(file("${path.module}/generated/bigquery_tables.json"))' in config.locals["warehouse"]
    table = config.resource("google_bigquery_table", "table")
    assert ref(table["for_each"]) == "local.warehouse.tables"
    assert ref(table["schema"]) == "jsonencode(each.value.schema)"
    assert "each.value.clustering" in table["clustering"]
    partitioning = first(table["dynamic"])["time_partitioning"]
    content = first(partitioning["content"])
    assert ref(content["field"]) == "time_partitioning.value.field"
    assert ref(content["expiration_ms"]) == "local.table_ttl_ms[each.key]"
    # The dataset's retention, or a table's own shorter one (event_landing), never longer.
    ttl = ref(config.locals["table_ttl_ms"])
    assert "local.partition_ttl_ms" in ttl and "min(" in ttl and "expiration_days" in ttl
    assert "each.value.require_partition_filter" in table["require_partition_filter"]
    view = config.resource("google_bigquery_table", "view")
    assert ref(view["for_each"]) == "local.warehouse.views"
    assert first(view["view"])["use_legacy_sql"] is False
    expiration = config.variables["partition_expiration_days"]
    assert expiration["default"] == 730, "24 months"


def test_firestore_is_native_with_generated_indexes_exemptions_and_ttl():
    config = load()
    database = config.resource("google_firestore_database", "store")
    assert database["type"] == "FIRESTORE_NATIVE"
    assert 'generated/firestore_indexes.json"))' in config.locals["firestore_indexes"]
    index = config.resource("google_firestore_index", "composite")
    assert ref(index["for_each"]) == "local.firestore_indexes.indexes"
    assert ref(index["database"]) == "google_firestore_database.store.name"
    content = first(first(index["dynamic"])["fields"]["content"])
    assert ref(content["order"]) == "fields.value.order"
    # Exemptions and TTL come from the declarations only, never from a second list in infra/.
    assert ref(config.locals["field_settings"]) == "local.firestore_indexes.field_overrides"
    fields = config.resource("google_firestore_field", "field")
    assert ref(fields["for_each"]) == "local.field_settings"
    dynamic = {name: body for block in fields["dynamic"] for name, body in block.items()}
    assert ref(dynamic["index_config"]["for_each"]) == "each.value.indexed ? [] : [true]", (
        "an exempted field gets an empty index_config; an indexed one keeps the automatic indexes"
    )
    assert ref(dynamic["ttl_config"]["for_each"]) == "each.value.ttl ? [true] : []"


def _offline_plugin_dirs() -> list[Path]:
    """Where Terraform finds providers without a network: the implied local mirrors and the plugin
    cache. https://developer.hashicorp.com/terraform/cli/config/config-file#implied-local-mirror-directories"""
    home = Path.home()
    candidates = [
        home / ".terraform.d" / "plugins",
        Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share")) / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    if os.environ.get("TF_PLUGIN_CACHE_DIR"):
        candidates.append(Path(os.environ["TF_PLUGIN_CACHE_DIR"]))
    return [c for c in candidates if (c / "registry.terraform.io" / "hashicorp" / "google").is_dir()]


def test_terraform_validate_when_the_providers_are_available_offline(tmp_path):
    """`terraform validate` needs the google and random providers. Only a local copy is used
    (-plugin-dir): a test never downloads ~100 MB of provider from the registry."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: `terraform validate` skipped")
    plugin_dirs = _offline_plugin_dirs()
    if not plugin_dirs:
        pytest.skip(
            "terraform validate skipped: no local copy of the hashicorp/google provider (implied local "
            "mirror directories, TF_PLUGIN_CACHE_DIR) and the registry is not used offline; fmt and "
            "the structural tests still ran"
        )
    work = tmp_path / "infra"
    shutil.copytree(INFRA, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "tfplan"))
    from tools import build as bundler

    bundler.build(tmp_path / "build")  # bundle_dir defaults to ../build, as after `make build`
    (tmp_path / "functions").symlink_to(ROOT / "functions")  # fileexists("../functions/<name>/main.py")
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    run = {"cwd": work, "capture_output": True, "text": True, "timeout": 300, "env": env}
    flags = [f"-plugin-dir={d}" for d in plugin_dirs]
    init = subprocess.run([terraform, "init", "-backend=false", "-input=false", "-no-color", *flags], **run)
    if init.returncode != 0:
        pytest.skip(f"terraform validate skipped: the local providers do not satisfy infra/:\n{init.stderr}")
    validate = subprocess.run([terraform, "validate", "-no-color"], **run)
    assert validate.returncode == 0, validate.stdout + validate.stderr


# ---------------------------------------------------------------------------- variables, providers


def test_variables_and_outputs_are_documented():
    config = load()
    for name, spec in config.variables.items():
        assert spec.get("description"), f"variable {name} has no description"
        assert spec.get("type"), f"variable {name} has no type"
    for name, spec in config.outputs.items():
        assert spec.get("description"), f"output {name} has no description"
    assert {"ingest_url", "providers_url", "aggregate_url", "function_urls"} <= set(config.outputs)


def test_tfvars_example_sets_every_required_variable_and_only_known_ones():
    config = load()
    example = (INFRA / "terraform.tfvars.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([a-z_]+)\s*=", example, flags=re.M))
    required = {name for name, spec in config.variables.items() if "default" not in spec}
    assert required <= named, f"required variables missing from the example: {required - named}"
    assert named <= set(config.variables), (
        f"the example names unknown variables: {named - set(config.variables)}"
    )


def test_providers_are_pinned():
    config = load()
    required = first(config.terraform[0]["required_providers"])
    assert required["google"]["source"] == "hashicorp/google"
    assert re.fullmatch(r"~> \d+\.\d+(\.\d+)?", required["google"]["version"])
    assert re.fullmatch(r"~> \d+\.\d+(\.\d+)?", required["random"]["version"])
    assert config.terraform[0]["required_version"].startswith(">= 1.11")


def test_makefile_deploys_with_build_infra_gen_and_terraform():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    deploy = re.search(r"^deploy:([^\n]*)\n((?:\t[^\n]*\n)+)", makefile, flags=re.M)
    assert deploy, "Makefile has no deploy target"
    assert "build" in deploy.group(1).split("##")[0] and "infra-gen" in deploy.group(1).split("##")[0]
    recipe = deploy.group(2)
    for step in ("init", "plan", "apply"):
        assert re.search(rf"-chdir=infra {step}\b", recipe), f"deploy does not run terraform {step}"
    assert re.search(r"^build:.*\n\t.*tools\.build", makefile, flags=re.M)
    assert re.search(r"^infra-gen:.*\n\t.*tools\.infra_gen", makefile, flags=re.M)


def test_the_event_sink_is_one_table_binding_an_env_var_and_an_api():
    """event_sink = "bigquery-write": ingest may write event_landing and nothing else of the dataset,
    is told where by ANALYTICS_EVENT_SINK, and the Storage Write API is enabled (docs/scale.md)."""
    config = load()
    variable = config.variables["event_sink"]
    assert variable["default"] == "store"
    assert '["store", "bigquery-write"]' in first(variable["validation"])["condition"]
    binding = config.resource("google_bigquery_table_iam_member", "ingest_landing")
    assert 'local.functions), "ingest")' in ref(binding["count"]) and "local.event_sink_enabled" in ref(
        binding["count"]
    )
    assert ref(binding["table_id"]) == 'google_bigquery_table.table["event_landing"].table_id'
    assert binding["role"] == "roles/bigquery.dataEditor"
    assert ref(binding["member"]) == 'google_service_account.function["ingest"].member'
    ingest = config.locals["function_specs"]["ingest"]
    assert ingest["dataset_roles"] == [] and "roles/bigquery.jobUser" not in ingest["project_roles"]
    assert config.locals["event_sink_url"].count("bigquery-write://${var.project_id}/${var.dataset_id}") == 1
    function = config.resource("google_cloudfunctions2_function", "function")
    env = first(function["service_config"])["environment_variables"]
    assert ref(env["ANALYTICS_EVENT_SINK"]) == "local.event_sink_url"
    assert "bigquerystorage.googleapis.com" in config.locals["optional_apis"]
