# Airflow 3.3.2 image with govflow and its pinned stack, for docker-compose.yaml and for workers on more
# hosts. govflow goes in the way any team's Airflow gets it (README "Add govflow to your Airflow"): the
# built wheel, installed with the tested lock as constraints; the plugin and the provider come from its
# entry points, the DAGs from the package, so only the two-line DAG file is copied. A worker needs only
# this image, the settings of deploy/prod.env and the secrets (every check reads its data from object
# storage).
FROM apache/airflow:3.3.2-python3.11 AS wheel
COPY --chown=airflow:root pyproject.toml README.md /tmp/govflow/
COPY --chown=airflow:root include/govflow /tmp/govflow/include/govflow
RUN python -m pip wheel --no-deps --no-cache-dir -w /tmp/dist /tmp/govflow

FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt /opt/govflow/requirements.txt
RUN pip install --no-cache-dir -r /opt/govflow/requirements.txt
COPY --from=wheel /tmp/dist/ /opt/govflow/dist/
RUN pip install --no-cache-dir "$(ls /opt/govflow/dist/govflow-*.whl)[mlflow,s3,postgres,alerts]" \
        -c /opt/govflow/requirements.txt \
    && pip check
COPY --chown=airflow:root dags/govflow_dags.py /opt/govflow/dags/govflow_dags.py
