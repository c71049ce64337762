"""Lints and renders the chart offline with Helm's own Go SDK, no helm binary needed.

    python render.py CHART OUTDIR [VALUES.yaml ...]

Runs with the Python of scripts/lib/prepare.sh's deploy-validators virtualenv (helm-python-sdk:
Helm v4's SDK in a C library, and PyYAML). Lints the chart strictly (a warning fails), checks
the values against values.schema.json, renders it as `helm template anb CHART -f VALUES...`
would (release `anb`, namespace `anb`, an install), and writes every rendered manifest under
OUTDIR (its template's path) plus OUTDIR/manifests.json: [{"template", "manifest"}] with each
YAML document parsed. Exits 1 with the findings when anything fails.
"""

import json
import os
import sys

import helm_python as helm
import yaml


def deep_merge(base, override):
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def main(chart_dir, out_dir, values_files):
    values = {}
    for path in values_files:
        with open(path, encoding="utf-8") as file:
            deep_merge(values, yaml.safe_load(file) or {})

    report = helm.lint(chart_dir, values, strict=True)
    findings = [m for m in report.get("messages") or [] if m.get("severity", 0) >= 2]
    problems = [f"lint: {m['path']}: {m['error']}" for m in findings]
    problems += [f"lint: {e}" for e in report.get("errors") or []]
    if problems:
        sys.exit("\n".join(problems))

    manifests = []
    with helm.Chart.load(chart_dir) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name="anb", namespace="anb", is_install=True)
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            continue
        docs = [doc for doc in yaml.safe_load_all(text) if doc]
        if not docs:
            continue
        path = os.path.join(out_dir, template)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        manifests += [{"template": template, "manifest": doc} for doc in docs]
    with open(os.path.join(out_dir, "manifests.json"), "w", encoding="utf-8") as file:
        json.dump(manifests, file, indent=2)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3:])
    except helm.HelmError as error:
        sys.exit(f"helm: {error}")
