#!/usr/bin/env bash
# The registry flow on the embedded SQLite default: register the sample model and a version,
# move it to staging, show the audit trail and verify its hash chain.
set -euo pipefail
cd "$(dirname "$0")/.."
sample=include/sample/adult
artifact="$GOVFLOW_HOME/demo-model.bin"
mkdir -p "$GOVFLOW_HOME"
printf 'placeholder model bytes for the registry demo\n' > "$artifact"
version="demo-$(date +%Y%m%d%H%M%S)"

echo "== governance DB: $GOVFLOW_HOME/govflow.db"
govflow db upgrade
govflow model show adult-income >/dev/null 2>&1 || govflow model register --name adult-income \
  --owner "Dana Scientist" --risk-tier high --team credit-ml --use-case "income band screening (demo)" \
  --goal "reduce manual review time" --stakeholder "Rita Reviewer:reviewer:rita@example.org" \
  --stakeholder "Dora DPO:data-protection-officer:dpo@example.org" --region EU --sector finance --as alice
echo "== register version $version"
govflow version register --model adult-income --version "$version" --artifact "$artifact" \
  --training-data "$sample/train.csv" --eval-data "$sample/eval.csv" --code-version "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --params '{"estimator": "placeholder"}' --metrics '{"accuracy": 0.0}' --as alice
govflow model show adult-income
echo "== audit trail"
govflow audit log --subject version:adult-income@"$version"
govflow audit verify
