# Airflow 3.3.2 image with govflow and its pinned stack, for docker-compose.yaml and for workers on more
# hosts: the DAG files, the plugin and the policies are baked in, so a worker needs only this image, the
# settings of deploy/prod.env and the secrets (every check reads its data from object storage).
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt /opt/govflow/requirements.txt
RUN pip install --no-cache-dir -r /opt/govflow/requirements.txt
COPY --chown=airflow:root pyproject.toml /opt/govflow/pyproject.toml
COPY --chown=airflow:root include /opt/govflow/include
RUN pip install --no-cache-dir --no-deps -e /opt/govflow
COPY --chown=airflow:root dags /opt/govflow/dags
COPY --chown=airflow:root plugins /opt/govflow/plugins
