"""docs/deploy.md, README.md and the data dictionary checked against the declarations they describe,
so they cannot drift again: secrets, variables, APIs, outputs, alerts, the BI dataset."""

from __future__ import annotations

import json
import re

from shared.kpi.bi import bi_views
from shared.kpi.dictionary import DICTIONARY
from shared.kpi.families import FAMILIES
from shared.warehouse import ddl
from tests.infra.terraform import INFRA, ROOT, load

DEPLOY = ROOT / "docs" / "deploy.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def deploy_text() -> str:
    return DEPLOY.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of a ``## heading`` (up to the next heading of the same level)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"docs/deploy.md has no section {heading!r}"
    return match.group(1)


def secret_ids() -> dict[str, str]:
    """Terraform's secrets: their id as the docs spell it (PREFIX-...) -> environment variable."""
    return {
        f"PREFIX-{name.replace('_', '-')}": spec["env"] for name, spec in load().locals["secrets"].items()
    }


def test_the_secrets_table_lists_exactly_the_terraform_secrets_and_who_reads_them():
    rows = {}
    for line in section(deploy_text(), "Secrets").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`PREFIX-"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), {r.strip() for r in cells[2].split(",")})
    assert {secret: env for secret, (env, _) in rows.items()} == secret_ids()
    readers: dict[str, set[str]] = {}
    for function, spec in load().locals["function_specs"].items():
        for name in spec["secrets"]:
            readers.setdefault(f"PREFIX-{name.replace('_', '-')}", set()).add(function)
    assert {secret: who for secret, (_, who) in rows.items()} == readers


def test_each_secret_has_rotation_steps():
    text = section(deploy_text(), "Secrets")
    for secret in secret_ids():
        assert re.search(rf"^- \*\*`{secret}`\*\*", text, flags=re.M), f"no rotation steps for {secret}"
    for name in load().locals["secrets"]:
        assert f"{name}_version" in text, f"the rotation of {name} names its version variable"


def test_every_doc_that_lists_secrets_lists_them_all():
    """A doc whose tables name two secrets or more (a list of secrets), by environment variable or by
    Secret Manager id, names all of them."""
    envs = set(secret_ids().values())
    ids = {secret.removeprefix("PREFIX") for secret in secret_ids()}  # -admin-token, ...
    for path in DOCS:
        rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
        for names in (envs, ids):
            named = {name for name in names if any(name in row for row in rows)}
            if len(named) >= 2:
                assert named == names, (
                    f"{path.relative_to(ROOT)} lists {sorted(named)}, not {sorted(names - named)}"
                )


def test_every_variable_is_in_the_configure_table():
    table = section(deploy_text(), "Configure")
    documented = set(re.findall(r"`([a-z_]+)`", table))
    missing = set(load().variables) - documented
    assert not missing, f"variables of infra/variables.tf missing from docs/deploy.md, Configure: {missing}"


def test_the_api_list_for_enable_apis_false_is_the_terraform_one():
    command = re.search(r"gcloud services enable (.*?)--project", deploy_text(), flags=re.S)
    assert command, "docs/deploy.md has no `gcloud services enable` command"
    listed = set(re.findall(r"[a-z]+\.googleapis\.com", command.group(1)))
    assert listed == set(load().locals["base_apis"])
    for optional in re.findall(r'"([a-z]+\.googleapis\.com)"', load().locals["optional_apis"]):
        assert optional in deploy_text(), optional


def test_outputs_named_in_the_docs_exist():
    named = set(re.findall(r"terraform -chdir=infra output(?: -raw)? ([a-z_]+)", deploy_text()))
    assert named, "the docs read no output"
    assert named <= set(load().outputs), named - set(load().outputs)


def test_every_alert_policy_has_a_row_in_when_an_alert_fires():
    text = deploy_text()
    assert "### When an alert fires" in text
    rows = set(re.findall(r"^\| `([a-z_]+)` \| (?:critical|error|warning) \|", text, flags=re.M))
    assert rows == set(load().resources["google_monitoring_alert_policy"])
    severities = {
        name: body["severity"].lower()
        for name, body in load().resources["google_monitoring_alert_policy"].items()
    }
    for name, severity in severities.items():
        assert re.search(rf"^\| `{name}` \| {severity} \|", text, flags=re.M), (name, severity)


def test_the_data_dictionary_says_which_relations_bi_users_get():
    text = DICTIONARY.read_text(encoding="utf-8")
    reporting = set(
        json.loads((INFRA / "generated" / "bigquery_tables.json").read_text(encoding="utf-8"))["reporting"]
    )
    sections = re.findall(r"^### `([a-z_0-9]+)`(?: \(view\))?\n(.*?)(?=^### |\Z)", text, flags=re.M | re.S)
    views = [*ddl.declared_views(), *bi_views()]
    declared = {t.name for t in ddl.declared_tables()} | {v.name for v in views}
    assert {name for name, _ in sections} == declared, "every declared table and view is in the dictionary"
    for name, body in sections:
        assert ("BI: in the reporting dataset" in body) == (name in reporting), name
        assert ("BI: not in the reporting dataset" in body) == (name not in reporting), name


def test_the_data_dictionary_never_prints_an_empty_slice_list():
    text = DICTIONARY.read_text(encoding="utf-8")
    assert "sliced by ." not in text and not re.search(r"sliced by\s*[.;]", text)
    for family in FAMILIES.values():
        if not family.dimensions:
            assert f"`{family.day_column}`; not sliced" in text, family.name


def test_the_readme_documents_every_setting_the_code_reads():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("| `ANALYTICS_"))
    for module in ("shared/config.py", "shared/aggregate/settings.py"):
        for name in set(re.findall(r'"(ANALYTICS_[A-Z_]+)"', (ROOT / module).read_text(encoding="utf-8"))):
            assert f"`{name}`" in rows, f"README.md, Configuration: no row for {name} ({module})"
